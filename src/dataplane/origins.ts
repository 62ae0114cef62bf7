/**
 * Origins of one listener at run time: health, connections, measured
 * connect time, and the choice of an origin for a new connection or UDP
 * session (rr, smooth wrr, lc, lrtt; primary/backup tiers; source-IP
 * affinity).
 */
import type { ForwardingListener, ForwardingOrigin } from '../services/gaap/forwarding';

export interface OriginState {
  readonly key: string;
  origin: ForwardingOrigin;
  /** Scheduling follows this; an origin starts as its record says (healthy, for one just bound) so traffic flows at once. */
  healthy: boolean;
  /** Domain origins: addresses whose last probe failed (`ip:port`), or the name did not resolve. */
  downIps: string[];
  unresolved: boolean;
  /** Consecutive probe results in the direction opposite to the current state. */
  streak: number;
  /** TCP connections and UDP sessions open to it. */
  active: number;
  /** Smoothed connect time in ms (probes and real connections); undefined until measured. */
  rttMs: number | undefined;
  /** Smooth weighted round robin's running weight. */
  current: number;
  /** Out of scheduling until this time (ms), after failing real requests too often (rules' passive checks); 0 never. */
  blockedUntil: number;
}

/** An origin's health as the main process's checks see it, sent to the forwarder processes that schedule on it. */
export interface OriginHealthSpec {
  key: string;
  healthy: boolean;
  downIps: string[];
  unresolved: boolean;
  blockedUntil: number;
}

/** The health of origins as plain data. */
export const healthSpecs = (states: readonly OriginState[]): OriginHealthSpec[] =>
  states.map((s) => ({ key: s.key, healthy: s.healthy, downIps: s.downIps, unresolved: s.unresolved, blockedUntil: s.blockedUntil }));

/** Takes over health sent by the main process onto the origins of the same key. */
export function applyHealth(states: readonly OriginState[], specs: readonly OriginHealthSpec[]): void {
  const byKey = new Map(specs.map((h) => [h.key, h]));
  for (const s of states) {
    const h = byKey.get(s.key);
    if (h) Object.assign(s, { healthy: h.healthy, downIps: h.downIps, unresolved: h.unresolved, blockedUntil: h.blockedUntil });
  }
}

export const originKey = (o: ForwardingOrigin): string => `${o.realServerId}:${o.port}`;

/** An origin as its record left it: after a restart, one found abnormal stays out until its checks bring it back. */
export function newOriginState(origin: ForwardingOrigin): OriginState {
  const { healthy, downIps } = origin.recorded;
  return { key: originKey(origin), origin, healthy, downIps: healthy ? [] : downIps, unresolved: false, streak: 0, active: 0, rttMs: undefined, current: 0, blockedUntil: 0 };
}

/**
 * Whether the record says otherwise than live health (`healthy` tells it, for
 * each origin): actions that rewrite the record (binding origins again) or
 * settings that change health without a probe (checks turned off) leave it
 * behind, and no probe result would bring it in line.
 */
export function recordLags(states: readonly OriginState[], healthy: (s: OriginState) => boolean): boolean {
  return states.some((s) => {
    const live = healthy(s);
    const r = s.origin.recorded;
    return live !== r.healthy || (!live && s.downIps.join(',') !== r.downIps.join(','));
  });
}

/** Records one measured connect time (exponentially weighted: recent ones count most). */
export function measureRtt(o: OriginState, ms: number): void {
  o.rttMs = o.rttMs === undefined ? ms : o.rttMs * 0.7 + ms * 0.3;
}

interface Affinity {
  key: string;
  expires: number;
}

/** Most affinity entries kept per listener; past it the expired ones are swept, then the oldest dropped. */
const AFFINITY_LIMIT = 100_000;

export class OriginSet {
  states: OriginState[] = [];
  private rr = 0;
  private readonly affinity = new Map<string, Affinity>();

  constructor(public config: ForwardingListener) {
    this.update(config);
  }

  /** New settings: origins kept by key keep their health and counts; new ones start healthy. */
  update(config: ForwardingListener): void {
    const old = new Map(this.states.map((s) => [s.key, s]));
    this.config = config;
    this.states = config.origins.map((o) => {
      const prev = old.get(originKey(o));
      if (!prev) return newOriginState(o);
      prev.origin = o;
      return prev;
    });
    if (!config.health.enabled) for (const s of this.states) Object.assign(s, { healthy: true, downIps: [], unresolved: false, streak: 0, blockedUntil: 0 });
    if (config.sessionPersist <= 0) this.affinity.clear();
  }

  /** Healthy origins of the tier in use: masters while one is healthy, then slaves. */
  private eligible(now: number): OriginState[] {
    const healthy = this.states.filter((s) => s.healthy && s.origin.weight > 0 && s.blockedUntil <= now);
    if (!this.config.failover) return healthy;
    const masters = healthy.filter((s) => s.origin.role !== 'slave');
    return masters.length > 0 ? masters : healthy.filter((s) => s.origin.role === 'slave');
  }

  /** The origin for a new connection or session from `clientIp`, or undefined when none may take it. */
  pick(clientIp: string, now: number): OriginState | undefined {
    const list = this.eligible(now);
    if (list.length === 0) return undefined;
    const persist = this.config.sessionPersist;
    if (persist > 0) {
      const hit = this.affinity.get(clientIp);
      if (hit && hit.expires > now) {
        const s = list.find((x) => x.key === hit.key);
        if (s) {
          hit.expires = now + persist * 1000;
          return s;
        }
      }
    }
    const chosen = this.choose(list);
    if (persist > 0) {
      if (this.affinity.size >= AFFINITY_LIMIT) this.sweep(now);
      this.affinity.set(clientIp, { key: chosen.key, expires: now + persist * 1000 });
    }
    return chosen;
  }

  private choose(list: OriginState[]): OriginState {
    const start = this.rr++ % list.length;
    switch (this.config.scheduler) {
      case 'wrr': {
        // Smooth weighted round robin: spreads heavy origins out instead of bursting them.
        let total = 0;
        let best = list[0];
        for (const s of list) {
          s.current += s.origin.weight;
          total += s.origin.weight;
          if (s.current > best.current) best = s;
        }
        best.current -= total;
        return best;
      }
      case 'lc':
        return lowest(list, start, (s) => s.active);
      case 'lrtt':
        // Unmeasured origins first (-1), so each gets measured.
        return lowest(list, start, (s) => s.rttMs ?? -1);
      default:
        return list[start];
    }
  }

  private sweep(now: number): void {
    for (const [k, a] of this.affinity) if (a.expires <= now) this.affinity.delete(k);
    while (this.affinity.size >= AFFINITY_LIMIT) this.affinity.delete(this.affinity.keys().next().value as string);
  }
}

/** The origin with the lowest score, ties broken in round-robin order from `start`. */
function lowest(list: OriginState[], start: number, score: (s: OriginState) => number): OriginState {
  let best = list[start];
  let bestScore = score(best);
  for (let i = 1; i < list.length; i++) {
    const s = list[(start + i) % list.length];
    const v = score(s);
    if (v < bestScore) {
      best = s;
      bestScore = v;
    }
  }
  return best;
}
