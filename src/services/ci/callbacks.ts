import type { Logger } from 'pino';
import type { OutboundGuard } from '../../core/outbound';

/** Pauses before each retry of a callback that failed (network error or non-2xx). */
export const CALLBACK_RETRY_DELAYS_MS = [500, 2000, 5000];
const ATTEMPT_TIMEOUT_MS = 5000;

export interface CallbackMessage {
  url: string;
  /** JSON body. */
  body: Record<string, unknown>;
  headers: Record<string, string>;
  jobId: string;
}

/**
 * Sends callbacks in the background, after the change they report was
 * committed: a request never waits for them. A failed delivery is retried
 * after each delay of CALLBACK_RETRY_DELAYS_MS, then given up (and logged).
 */
export class CallbackSender {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly log: Logger,
    private readonly outbound: OutboundGuard,
    private readonly delays: number[] = CALLBACK_RETRY_DELAYS_MS,
  ) {}

  send(message: CallbackMessage): void {
    const p = this.deliver(message).catch((err) => this.log.error({ err, jobId: message.jobId }, 'callback delivery crashed'));
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Resolves once every callback in flight was delivered or given up. */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private async deliver(m: CallbackMessage): Promise<void> {
    const payload = JSON.stringify(m.body);
    for (let attempt = 0; attempt <= this.delays.length; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, this.delays[attempt - 1]).unref());
      const res = await this.outbound.post(m.url, payload, { 'Content-Type': 'application/json', ...m.headers }, ATTEMPT_TIMEOUT_MS, {
        sender: 'ci callback', jobId: m.jobId, attempt: attempt + 1,
      });
      if (res.ok) return;
      if (res.refused) return; // the rule will not change on a retry
    }
    this.log.error({ jobId: m.jobId, url: m.url }, 'callback given up after retries');
  }
}
