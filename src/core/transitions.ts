import type { Logger } from 'pino';
import type { Store, StoreTx } from '../store/types';
import type { Later, TransitionHandler, TransitionScheduler } from './service';

export interface TransitionOptions {
  /** auto: apply when due; manual: only on advanceAll(). */
  mode: 'auto' | 'manual';
  /** Time a resource spends in a transient status when its service names none (0: at once). */
  delayMs?: number;
}

/**
 * Applies scheduled state changes (CREATING → RUNNING, ...) when they fall
 * due. Transitions live in the store, so a restart picks up where the last
 * run stopped; each one is applied in its own transaction.
 */
export class TransitionEngine implements TransitionScheduler {
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private running = false;
  private stopped = true;
  private draining: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly handlers: Map<string, TransitionHandler>,
    private readonly options: TransitionOptions,
    private readonly log: Logger,
  ) {}

  /** Adds a service's transitions, known to the engine as `<service>:<type>`. */
  register(service: string, handlers: Record<string, TransitionHandler>): void {
    for (const [type, fn] of Object.entries(handlers)) this.handlers.set(`${service}:${type}`, fn);
  }

  /** True when transitions apply as they fall due (not only when advanced by hand). */
  get automatic(): boolean {
    return this.options.mode === 'auto';
  }

  /** The transition time of a service that names none. */
  get delayMs(): number {
    return this.options.delayMs ?? 1000;
  }

  /**
   * Runs `fn` in one transaction of `account`, with `later` to schedule
   * transitions of `service` — the one way requests schedule them. With a
   * zero delay and automatic transitions a change is part of the request
   * itself: applied after `fn`, in the same transaction. Otherwise it is
   * stored, and the timer is armed once the transaction has committed.
   */
  async run<T>(account: string, service: string, now: number, fn: (tx: StoreTx, later: Later) => Promise<T> | T): Promise<T> {
    const scheduled: number[] = [];
    const result = await this.store.transaction(account, async (tx) => {
      const inline: Array<{ type: string; payload: Record<string, unknown> }> = [];
      const later: Later = async (type, payload, delayMs) => {
        const delay = delayMs ?? this.delayMs;
        if (delay === 0 && this.automatic) {
          inline.push({ type, payload });
          return;
        }
        await tx.schedule(service, type, now + delay, payload);
        scheduled.push(now + delay);
      };
      const out = await fn(tx, later);
      for (const t of inline) {
        const handler = this.handlers.get(`${service}:${t.type}`);
        if (!handler) throw new Error(`no transition ${service}:${t.type}`);
        await handler(t.payload, tx, now);
      }
      return out;
    });
    for (const due of scheduled) this.notify(due);
    return result;
  }

  start(): void {
    this.stopped = false;
    if (this.options.mode === 'auto') void this.rearm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Called after a transition was scheduled for `dueAt`. */
  notify(dueAt: number): void {
    if (this.stopped || this.options.mode !== 'auto' || dueAt >= this.timerDue) return;
    this.arm(dueAt);
  }

  /** Applies every pending transition now, including ones that applying others schedules. */
  async advanceAll(): Promise<number> {
    let applied = 0;
    for (let round = 0; round < 100; round++) {
      const n = await this.applyDue(Number.MAX_SAFE_INTEGER);
      if (n === 0) break;
      applied += n;
    }
    return applied;
  }

  private arm(dueAt: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = dueAt;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      void this.tick();
    }, Math.max(0, dueAt - Date.now()));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.stopped && (await this.applyDue(Date.now())) > 0);
    } finally {
      this.running = false;
    }
    await this.rearm();
  }

  private async rearm(): Promise<void> {
    if (this.stopped) return;
    const next = await this.store.nextDueAt();
    if (next !== undefined) this.arm(next);
  }

  /** Applies up to a batch of transitions due at `now`; returns how many. */
  private applyDue(now: number): Promise<number> {
    // One drain at a time, whether the timer or an admin call asked.
    const run = this.draining.then(async () => {
      const due = await this.store.dueTransitions(now, 500);
      for (const t of due) {
        const handler = this.handlers.get(`${t.service}:${t.type}`);
        try {
          await this.store.transaction(t.account, async (tx) => {
            if (handler) await handler(t.payload, tx, Date.now());
            else this.log.warn({ transition: t }, 'no handler for scheduled transition; dropped');
            await this.store.completeTransition(tx, t.id);
          });
        } catch (err) {
          this.log.error({ err, transition: t }, 'scheduled transition failed; dropped');
          await this.store.transaction(t.account, (tx) => this.store.completeTransition(tx, t.id));
        }
      }
      return due.length;
    });
    this.draining = run.then(() => undefined, () => undefined);
    return run;
  }
}
