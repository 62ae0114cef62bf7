/**
 * Traffic counters of listeners, proxies and groups, kept in memory and
 * handed to the store at the flush interval: bytes and packets add into the
 * minute's average rate (bit/s, packets/s), concurrent connections keep the
 * minute's peak. A connection costs nothing per packet here: open TCP
 * connections are sampled (their byte counts) when the counters are flushed.
 */
import type { CounterPoint } from '../services/gaap/forwarding';

type Scope = CounterPoint['scope'];

export interface Entity {
  scope: Scope;
  id: string;
  /** `scope/id`, built once. */
  key: string;
}

export const entity = (scope: Scope, id: string): Entity => ({ scope, id, key: `${scope}/${id}` });

/** One origin (real server) of one listener or rule (`ownerId`): its traffic series sit beside its health series, under the same id. */
export const originEntity = (realServerId: string, ownerId: string): Entity => entity('realServer', `${realServerId}@${ownerId}`);

export class Totals {
  inBytes = 0;
  outBytes = 0;
  inPackets = 0;
  outPackets = 0;
  active = 0;
  peak = 0;
}

/** A typical TCP segment's payload: TCP packets are estimated from bytes (counting segments would cost per packet). */
export const SEGMENT_BYTES = 1448;

export function addTo(totals: readonly Totals[], inBytes: number, outBytes: number, inPackets: number, outPackets: number): void {
  for (const t of totals) {
    t.inBytes += inBytes;
    t.outBytes += outBytes;
    t.inPackets += inPackets;
    t.outPackets += outPackets;
  }
}

export class Counters {
  /** account → `scope/id` → totals since the last flush. */
  private readonly byAccount = new Map<string, Map<string, { entity: Entity; t: Totals }>>();

  private totals(account: string, e: Entity): Totals {
    let m = this.byAccount.get(account);
    if (!m) this.byAccount.set(account, (m = new Map()));
    let hit = m.get(e.key);
    if (!hit) m.set(e.key, (hit = { entity: e, t: new Totals() }));
    return hit.t;
  }

  open(account: string, entities: readonly Entity[]): void {
    for (const e of entities) {
      const t = this.totals(account, e);
      t.active++;
      if (t.active > t.peak) t.peak = t.active;
    }
  }

  close(account: string, entities: readonly Entity[]): void {
    for (const e of entities) this.totals(account, e).active--;
  }

  add(account: string, entities: readonly Entity[], inBytes: number, outBytes: number, inPackets: number, outPackets: number): void {
    addTo(this.totalsOf(account, entities), inBytes, outBytes, inPackets, outPackets);
  }

  /** The totals of `entities`, to add to directly: valid while a connection or session opened on them stays open. */
  totalsOf(account: string, entities: readonly Entity[]): Totals[] {
    return entities.map((e) => this.totals(account, e));
  }

  /** The points gathered since the last call, by account; counts restart from zero, peaks from the open connections. */
  drain(nowSeconds: number): Map<string, CounterPoint[]> {
    const out = new Map<string, CounterPoint[]>();
    for (const [account, m] of this.byAccount) {
      const points: CounterPoint[] = [];
      for (const [key, { entity, t }] of m) {
        const { scope, id } = entity;
        const point = (metric: string, value: number, merge: CounterPoint['merge']) => points.push({ scope, id, metric, at: nowSeconds, value, merge });
        if (t.inBytes > 0) point('InBandwidth', (t.inBytes * 8) / 60, 'sum');
        if (t.outBytes > 0) point('OutBandwidth', (t.outBytes * 8) / 60, 'sum');
        if (t.inPackets > 0) point('InPackets', t.inPackets / 60, 'sum');
        if (t.outPackets > 0) point('OutPackets', t.outPackets / 60, 'sum');
        if (t.peak > 0) point('Concurrent', t.peak, 'max');
        if (t.active === 0) m.delete(key);
        else Object.assign(t, { inBytes: 0, outBytes: 0, inPackets: 0, outPackets: 0, peak: t.active });
      }
      if (m.size === 0) this.byAccount.delete(account);
      if (points.length > 0) out.set(account, points);
    }
    return out;
  }
}
