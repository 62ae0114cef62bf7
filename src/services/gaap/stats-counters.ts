/**
 * Per-resource statistics counters, kept in the store's key-value space
 * (namespace `gaap.stats`), one entry per resource and metric:
 *
 *   key   `<scope>/<resourceId>/<metric>`   e.g. `listener/listener-ab12cd34/InBandwidth`
 *   value `{ "<unix minute start>": <max value seen in that minute>, ... }`
 *
 * Nothing writes samples yet: no traffic flows through the emulator, so
 * every counter reads as zero. A data plane records samples with
 * `recordSample` (see docs/gaap-catalogue.md); the statistics actions read
 * them back with `readSlots` and keep, per granularity bucket, the maximum.
 */
import type { StoreTx } from '../../store/types';

export const STATS_NS = 'gaap.stats';

/** Resources that carry counters. A real server's health is kept per binding: id `<rs-id>@<listener-or-rule-id>`. */
export type StatsScope = 'proxy' | 'group' | 'listener' | 'realServer';

/** Samples are kept per minute; older ones than this are dropped when a new one is written. */
export const RETENTION_SECONDS = 400 * 86400;

export type Slots = Record<string, number>;

const key = (scope: StatsScope, id: string, metric: string): string => `${scope}/${id}/${metric}`;

/** Record one sample: the minute slot keeps the maximum, as the API reports maxima. */
export async function recordSample(tx: StoreTx, scope: StatsScope, id: string, metric: string, unixSeconds: number, value: number): Promise<void> {
  const k = key(scope, id, metric);
  const slots = (await tx.kvGet<Slots>(STATS_NS, k)) ?? {};
  const minute = String(Math.floor(unixSeconds / 60) * 60);
  slots[minute] = Math.max(slots[minute] ?? Number.NEGATIVE_INFINITY, value);
  const oldest = unixSeconds - RETENTION_SECONDS;
  for (const m of Object.keys(slots)) if (Number(m) < oldest) delete slots[m];
  await tx.kvPut(STATS_NS, k, slots);
}

export async function readSlots(tx: StoreTx, scope: StatsScope, id: string, metric: string): Promise<Slots> {
  return (await tx.kvGet<Slots>(STATS_NS, key(scope, id, metric))) ?? {};
}

/** Forget a resource's counters (for its owner to call when the resource is deleted). */
export async function clearCounters(tx: StoreTx, scope: StatsScope, id: string, metrics: readonly string[]): Promise<void> {
  for (const m of metrics) await tx.kvDelete(STATS_NS, key(scope, id, m));
}
