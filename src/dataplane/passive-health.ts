/**
 * Passive health of a rule's origins (CheckParams FailedCountInter,
 * FailedThreshold, BlockInter): an origin that fails FailedThreshold real
 * requests within FailedCountInter seconds is taken out of scheduling for
 * BlockInter seconds. A failure is a request the origin left without an
 * answer: refused, reset, or silent past the timeout. Answers of any status
 * are answers.
 */
import type { PassiveCheckSettings } from '../services/gaap/forwarding-http';
import type { OriginState } from './origins';

/** Where a rule's failed requests go: its PassiveHealth, or (in a forwarder process) the main process's. */
export interface PassiveCheck {
  failed(o: OriginState, now: number): void;
  stop(): void;
}

/** Whether the settings block at all (a 0 in any of them turns blocking off). */
export const blocks = (s: PassiveCheckSettings, scale: number): boolean =>
  s.enabled && s.failedThreshold > 0 && s.failedCountInter * scale > 0 && s.blockInter * scale > 0;

export class PassiveHealth implements PassiveCheck {
  /** Recent failure times (ms) per origin, oldest first, at most FailedThreshold of them. */
  private readonly failures = new Map<string, number[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly windowMs: number;
  private readonly blockMs: number;

  constructor(
    private readonly settings: PassiveCheckSettings,
    /** Multiplies the interval and the block time (tests shorten them, as they do active checks). */
    private readonly scale: number,
    /** An origin was blocked, or its block ended. */
    private readonly changed: () => void,
  ) {
    this.windowMs = settings.failedCountInter * 1000 * scale;
    this.blockMs = settings.blockInter * 1000 * scale;
  }

  /** A real request to `o` failed at `now` (ms). */
  failed(o: OriginState, now: number): void {
    if (!blocks(this.settings, this.scale) || o.blockedUntil > now) return;
    let list = this.failures.get(o.key);
    if (!list) this.failures.set(o.key, (list = []));
    list.push(now);
    while (list.length > 0 && list[0] <= now - this.windowMs) list.shift();
    if (list.length < this.settings.failedThreshold) return;
    this.failures.delete(o.key);
    o.blockedUntil = now + this.blockMs;
    this.changed();
    // The block's end is a change too: it is reported when it comes.
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.changed();
    }, this.blockMs + 1);
    timer.unref();
    this.timers.add(timer);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** An origin's health as reported: its active checks' verdict, unless a block holds it out. */
export const effectiveHealthy = (o: OriginState, now: number): boolean => o.healthy && o.blockedUntil <= now;
