/**
 * Result callbacks. A transition that produces a result writes the delivery
 * into the store (in its own transaction) and kicks the outbox; the outbox
 * reads it back in a later transaction, so only committed results are ever
 * sent, and posts it outside any transaction, with retries and backoff.
 */
import { createHash } from 'node:crypto';
import { OutboundGuard } from '../../core/outbound';
import type { Store, StoreTx } from '../../store/types';

const NS = 'ams.callback';

export interface Delivery {
  url: string;
  seed: string;
  body: string;
}

/** `X-Signature`: hex sha256 of the Seed followed by the body. */
export const callbackSignature = (seed: string, body: string): string => createHash('sha256').update(seed + body).digest('hex');

export interface OutboxOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Delay before the first retry; doubled (x4) for each next one. */
  firstBackoffMs: number;
  timeoutMs: number;
}

export const DEFAULT_OUTBOX: OutboxOptions = { attempts: 4, firstBackoffMs: 500, timeoutMs: 5000 };

export class CallbackOutbox {
  private store: Store | undefined;
  private seq = 0;

  constructor(
    private readonly outbound: OutboundGuard = new OutboundGuard({ allowLinkLocal: false }),
    private readonly options: OutboxOptions = DEFAULT_OUTBOX,
  ) {}

  attach(store: Store): void {
    this.store = store;
  }

  /** Inside a transaction: records a delivery to send once that transaction commits. */
  async enqueue(tx: StoreTx, delivery: Delivery): Promise<void> {
    const key = `${Date.now().toString(36)}-${(++this.seq).toString(36)}`;
    await tx.kvPut(NS, key, delivery);
    const account = tx.account;
    // Not awaited: the store runs transactions one after the other, so the
    // claim below runs after the current one has committed (or rolled back).
    setImmediate(() => void this.claimAndSend(account, key));
  }

  private async claimAndSend(account: string, key: string): Promise<void> {
    const store = this.store;
    if (!store) return;
    let delivery: Delivery | undefined;
    try {
      delivery = await store.transaction(account, async (tx) => {
        const d = await tx.kvGet<Delivery>(NS, key);
        if (d) await tx.kvDelete(NS, key);
        return d;
      });
    } catch {
      return; // the store was closed (server stopped)
    }
    if (delivery) await this.send(delivery);
  }

  private async send(d: Delivery): Promise<void> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (d.seed) headers['X-Signature'] = callbackSignature(d.seed, d.body);
    let backoff = this.options.firstBackoffMs;
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      const res = await this.outbound.post(d.url, d.body, headers, this.options.timeoutMs, { sender: 'ams callback', attempt });
      if (res.ok || res.refused) return;
      if (attempt < this.options.attempts) {
        await new Promise<void>((r) => setTimeout(r, backoff).unref());
        backoff *= 4;
      }
    }
  }
}
