/**
 * Which forwarder processes accept on a listener's socket, and when.
 *
 * Every process that polls a shared listening socket is woken for each new
 * connection, and all but one find nothing to accept (Node 20 has no
 * SO_REUSEPORT or EPOLLEXCLUSIVE for it). With two forwarders, those extra
 * wake-ups and the connections landing in either process at random cost
 * more CPU per connection and more than doubled the latency a round trip
 * gained at p99, without adding throughput while one process kept up
 * (docs/dataplane.md, BENCHMARKS.md). So the first
 * forwarder (the lead) accepts on every listener, and the others only
 * while the lead is saturated and the machine has CPU to spare for them: a
 * listener that took connections or requests while the lead's event loop
 * was busy for at least `joinAt` of two reports' intervals in a row (one
 * alone can be a collection or a compilation), with the machine's cores
 * idle for at least that share of one core between them, is opened
 * to every forwarder; when all of them together stay below half that for
 * `quietMs`, it goes back to the lead alone. Without idle CPU a second
 * forwarder only shares the lead's time slices, and two accepting cost
 * more per connection than one (BENCHMARKS.md): the load generator of a
 * benchmark on the same machine is the usual case.
 *
 * HTTP and HTTPS listeners whose connections each carry many requests
 * (keep-alive clients) are opened to every forwarder once the lead is
 * busy, idle CPU or not: there a second process does add throughput, and
 * the connections the lead holds beyond its share are asked to close after
 * their next answer so that their clients reconnect to either (workers.ts).
 * Once two of the lead's reports in a row show such a listener taking new
 * connections rather than requests on kept ones, it goes back to the lead
 * alone, as it would have stayed for short connections.
 *
 * This module only decides; workers.ts sends the sockets and messages.
 */

import { cpus } from 'node:os';

/** The forwarder that accepts on every listener. */
export const LEAD = 0;

/** How long the load must have passed before the other forwarders stop accepting on a listener. */
export const QUIET_MS = 2000;

/** The lead's busy reports in a row that make the others join. */
const HOT_REPORTS = 2;

/** A report older than this counts as an idle forwarder's (forwarders report only when something changed). */
const STALE_MS = 400;

/** Requests per new connection from which an HTTP listener's clients count as keep-alive ones. */
const KEEPALIVE_REQUESTS = 4;

/** A listener's traffic in a lead's report: HTTP and HTTPS listeners count requests too. */
export interface ListenerTraffic {
  id: number;
  accepted: number;
  requests?: number;
}

/** Whether a listener's clients mostly reuse their connections (HTTP keep-alive). */
export function keepsAlive(t: ListenerTraffic): boolean {
  return (t.requests ?? 0) >= KEEPALIVE_REQUESTS * Math.max(1, t.accepted);
}

/** The lead's busy reports further apart than this are not in a row (a busy loop runs its report timer late, but not this late). */
const IN_A_ROW_MS = 1000;

/** The machine's idle CPU time so far, every core's together, in ms. */
export type IdleClock = () => number;

/** Idle time of the machine's cores, from the runtime (os.cpus()). */
export const machineIdleMs: IdleClock = () => {
  let ms = 0;
  for (const cpu of cpus()) ms += cpu.times.idle;
  return ms;
};

export interface TurnSettings {
  /** The lead's busy share (0–1) from which the others join; 0: every forwarder always accepts. */
  joinAt: number;
  /** How long the forwarders must stay below half of `joinAt` together before the others leave. */
  quietMs: number;
}

export class AcceptTurns {
  /** Each forwarder's last busy share and when it came. */
  private readonly busy: Array<{ share: number; at: number }>;
  /** The last moment the forwarders together were busy enough to keep the others accepting. */
  private busyAt = 0;
  /** The lead's reports in a row at `joinAt` or above. */
  private hot = 0;
  /** The machine's idle time at the lead's last busy report, and when. */
  private idleAt = { ms: 0, at: 0 };
  /** Listeners opened for their keep-alive clients alone: the lead's reports in a row since that showed short connections instead. */
  private readonly keptAlive = new Map<number, number>();

  constructor(
    slots: number,
    private readonly settings: TurnSettings,
    private readonly now: () => number = Date.now,
    private readonly idle: IdleClock = machineIdleMs,
  ) {
    this.busy = Array.from({ length: slots }, () => ({ share: 0, at: 0 }));
  }

  /** Whether a listener is opened to every forwarder from the start. */
  get everyone(): boolean {
    return this.settings.joinAt === 0 || this.busy.length < 2;
  }

  /**
   * A forwarder's report: its event loop's busy share over the report's
   * interval and the listeners that carried traffic meanwhile.
   * Answers the listeners to open to every forwarder now.
   */
  reported(slot: number, share: number, traffic: readonly ListenerTraffic[]): readonly number[] {
    const now = this.now();
    this.busy[slot] = { share, at: now };
    if (this.total(now) >= this.settings.joinAt / 2) this.busyAt = now;
    if (slot !== LEAD) return [];
    if (share < this.settings.joinAt) {
      this.hot = 0;
      return [];
    }
    // Busy reports with a silence between them (a forwarder reports only when something changed) are not in a row.
    if (now - this.idleAt.at > IN_A_ROW_MS) this.hot = 0;
    // The machine is read only while the lead is busy: cores idle since its previous busy report.
    const idle = { ms: this.idle(), at: now };
    const spare = this.hot > 0 ? (idle.ms - this.idleAt.ms) / Math.max(1, idle.at - this.idleAt.at) : 0;
    this.idleAt = idle;
    this.hot++;
    if (this.hot < HOT_REPORTS) return [];
    // A core's share as large as the lead's: with less, the other forwarder would take turns with the load on the cores there are.
    const spared = spare >= this.settings.joinAt;
    const opened = traffic.filter((t) => (t.accepted > 0 || (t.requests ?? 0) > 0) && (spared || keepsAlive(t))).map((t) => t.id);
    for (const id of opened) {
      if (spared) this.keptAlive.delete(id);
      else this.keptAlive.set(id, 0);
    }
    if (opened.length > 0) this.busyAt = now;
    return opened;
  }

  /**
   * The lead's report, again: the listeners opened for their keep-alive
   * clients alone whose traffic in two of its reports in a row was new
   * connections instead (about one request each). They go back to the lead.
   */
  lapsed(traffic: readonly ListenerTraffic[]): readonly number[] {
    const out: number[] = [];
    for (const t of traffic) {
      const count = this.keptAlive.get(t.id);
      if (count === undefined) continue;
      const short = t.accepted > 0 && !keepsAlive(t);
      if (!short) this.keptAlive.set(t.id, 0);
      else if (count + 1 < HOT_REPORTS) this.keptAlive.set(t.id, count + 1);
      else {
        this.keptAlive.delete(t.id);
        out.push(t.id);
      }
    }
    return out;
  }

  /** Every listener went back to the lead. */
  narrowed(): void {
    this.keptAlive.clear();
  }

  /** The lead is gone: the others take every listener until it is back and the load has passed. */
  leadGone(): void {
    this.busyAt = this.now();
  }

  /** Whether the listeners opened to every forwarder can go back to the lead alone. */
  quiet(): boolean {
    const now = this.now();
    if (this.total(now) >= this.settings.joinAt / 2) this.busyAt = now;
    return now - this.busyAt >= this.settings.quietMs;
  }

  private total(now: number): number {
    let sum = 0;
    for (const b of this.busy) if (now - b.at <= STALE_MS) sum += b.share;
    return sum;
  }
}
