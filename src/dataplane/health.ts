/**
 * Health probes of one listener's origins, as configured: every DelayLoop
 * seconds a probe that must succeed within ConnectTimeout; HealthyThreshold
 * consecutive successes make an unhealthy origin healthy again,
 * UnhealthyThreshold consecutive failures take a healthy one out of
 * scheduling. TCP listeners probe by connecting (and close at once, without
 * a PROXY header); UDP listeners send SendContext and expect RecvContext
 * (PORT), or check that the origin's name resolves (PING: ICMP needs
 * privileges a user process lacks).
 */
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect, isIP } from 'node:net';
import type { HealthCheckSettings } from '../services/gaap/forwarding';
import { measureRtt, type OriginSet, type OriginState } from './origins';

/** Addresses of an origin: itself when it is an IP, every address of its name otherwise. */
export async function resolveAll(address: string): Promise<string[]> {
  if (isIP(address)) return [address];
  const found = await lookup(address, { all: true });
  return found.map((a) => a.address);
}

function probeTcp(ip: string, port: number, timeoutMs: number, o: OriginState): Promise<boolean> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host: ip, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => {
      measureRtt(o, performance.now() - started);
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

function probeUdp(ip: string, port: number, timeoutMs: number, send: string, expect: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(isIP(ip) === 6 ? 'udp6' : 'udp4');
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    // Without an expected reply, silence passes: only an ICMP "port unreachable" (ECONNREFUSED) fails.
    const timer = setTimeout(() => done(expect === ''), timeoutMs);
    socket.on('error', () => done(false));
    socket.on('message', (msg) => done(expect === '' || msg.toString('utf8').replace(/\r?\n$/, '') === expect));
    socket.connect(port, ip, () => socket.send(send, (err) => err && done(false)));
  });
}

/** A probe of one address of an origin (HTTP listeners' rules bring their own). */
export type Probe = (ip: string, port: number, timeoutMs: number, o: OriginState) => Promise<boolean>;

export interface HealthEvents {
  /** An origin's health (or its list of failed addresses) changed. */
  changed(): void;
}

/** Probes every origin of one listener on its own timer; stop() ends them all. */
export class HealthChecker {
  private timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly origins: OriginSet,
    private readonly settings: HealthCheckSettings,
    private readonly protocol: 'TCP' | 'UDP' | Probe,
    /** Multiplies DelayLoop and ConnectTimeout (tests shorten them). */
    private readonly scale: number,
    private readonly events: HealthEvents,
  ) {
    if (!settings.enabled) return;
    for (const o of origins.states) this.schedule(o, 0);
  }

  private schedule(o: OriginState, delayMs: number): void {
    const timer = setTimeout(() => void this.probe(o), delayMs);
    timer.unref();
    this.timers.set(o.key, timer);
  }

  private async probe(o: OriginState): Promise<void> {
    if (this.stopped) return;
    const s = this.settings;
    const timeoutMs = Math.max(1, s.connectTimeout * 1000 * this.scale);
    let ips: string[] = [];
    let unresolved = false;
    try {
      ips = await resolveAll(o.origin.address);
    } catch {
      unresolved = true;
    }
    const port = this.protocol === 'UDP' && s.checkPort > 0 ? s.checkPort : o.origin.port;
    const results = await Promise.all(ips.map((ip) => {
      if (typeof this.protocol === 'function') return this.protocol(ip, port, timeoutMs, o);
      if (this.protocol === 'TCP') return probeTcp(ip, port, timeoutMs, o);
      if (s.type === 'PORT') return probeUdp(ip, port, timeoutMs, s.send, s.expect);
      return Promise.resolve(true);
    }));
    if (this.stopped) return;
    const down = ips.filter((_, i) => !results[i]).map((ip) => `${ip}:${port}`);
    const ok = !unresolved && down.length === 0 && ips.length > 0;
    const before = `${o.healthy}|${o.downIps.join(',')}|${o.unresolved}`;
    if (ok === o.healthy) o.streak = 0;
    else if (++o.streak >= (ok ? s.healthyThreshold : s.unhealthyThreshold)) {
      o.healthy = ok;
      o.streak = 0;
    }
    // The failed addresses are reported with the state they explain.
    o.downIps = o.healthy ? [] : down;
    o.unresolved = !o.healthy && unresolved;
    if (`${o.healthy}|${o.downIps.join(',')}|${o.unresolved}` !== before) this.events.changed();
    this.schedule(o, Math.max(1, s.delayLoop * 1000 * this.scale));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
