/**
 * Per-resource statistics counters, kept in the store's time series, one
 * series per resource and metric, one point per minute:
 *
 *   key   `gaap:<scope>/<resourceId>/<metric>`   e.g. `gaap:listener/listener-ab12cd34/InBandwidth`
 *   t     unix seconds of the minute's start
 *
 * Writing a point costs one row whatever the history; reading a range costs
 * the range. The data plane adds traffic into the minute's point (bandwidth
 * and packet rates are the minute's average per second) and keeps the
 * minute's maximum of gauges (concurrent connections) and its minimum of
 * health (one failed minute reads as abnormal). The statistics actions read
 * the points back and keep, per granularity bucket, the maximum.
 */
import type { SeriesPoint, Store, StoreTx } from '../../../store/types';

/** Resources that carry counters. A real server's health is kept per binding: id `<rs-id>@<listener-or-rule-id>`. */
export type StatsScope = 'proxy' | 'group' | 'listener' | 'realServer';

/** Points older than this are dropped (the longest range the statistics actions answer is a year). */
export const RETENTION_SECONDS = 400 * 86400;

/** Minute start (unix seconds) → value. */
export type Slots = Map<number, number>;

export const seriesKey = (scope: StatsScope, id: string, metric: string): string => `gaap:${scope}/${id}/${metric}`;

export const minuteOf = (unixSeconds: number): number => Math.floor(unixSeconds / 60) * 60;

/** One point of a counter, for `recordPoints`. */
export interface CounterPoint {
  scope: StatsScope;
  id: string;
  metric: string;
  /** Unix seconds; the point is the minute holding it. */
  at: number;
  value: number;
  merge: SeriesPoint['merge'];
}

export async function recordPoints(tx: StoreTx, points: readonly CounterPoint[]): Promise<void> {
  await tx.seriesWrite(points.map((p) => ({ key: seriesKey(p.scope, p.id, p.metric), t: minuteOf(p.at), value: p.value, merge: p.merge })));
}

/** Record one sample: the minute slot keeps the maximum, as the API reports maxima. */
export async function recordSample(tx: StoreTx, scope: StatsScope, id: string, metric: string, unixSeconds: number, value: number): Promise<void> {
  await recordPoints(tx, [{ scope, id, metric, at: unixSeconds, value, merge: 'max' }]);
}

/** The minute slots of one counter between `from` and `to` (unix seconds). */
export async function readSlots(tx: StoreTx, scope: StatsScope, id: string, metric: string, from: number, to: number): Promise<Slots> {
  const rows = await tx.seriesRead(seriesKey(scope, id, metric), minuteOf(from), to);
  return new Map(rows.map((r) => [r.t, r.value]));
}

/** Drops the points past retention (an hourly chore of whoever records counters). */
export const trimCounters = (store: Store, nowSeconds: number): Promise<number> => store.trimSeries('gaap:', nowSeconds - RETENTION_SECONDS);

/** Forget a resource's counters (its owner calls this when the resource is deleted); a real server's per-binding health goes too. */
export async function clearCounters(tx: StoreTx, scope: StatsScope, id: string): Promise<void> {
  await tx.seriesDelete(seriesKey(scope, id, ''));
  if (scope === 'realServer') await tx.seriesDelete(`gaap:${scope}/${id}@`);
}
