/**
 * Time handling of the statistics actions: `YYYY-MM-DD HH:MM:SS` parsing
 * (Beijing time, UTC+8, as the console and the API examples use it),
 * granularity rules per time range, and bucketing of per-minute counters.
 */
import { invalidParameterValue } from '../../../core/errors';
import type { Slots } from './model';

const OFFSET_SECONDS = 8 * 3600;
const DAY = 86400;
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Unix seconds of a `YYYY-MM-DD HH:MM:SS` Beijing-time string; InvalidParameterValue naming `field` otherwise. */
export function parseTime(field: string, value: string): number {
  const m = TIME_RE.exec(value.trim());
  if (!m) throw invalidParameterValue(field, `\`${value}\` is not a time of the form YYYY-MM-DD HH:MM:SS`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (
    y < 1970 || back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d ||
    back.getUTCHours() !== h || back.getUTCMinutes() !== mi || back.getUTCSeconds() !== s
  ) {
    throw invalidParameterValue(field, `\`${value}\` is not a valid date and time`);
  }
  return ms / 1000 - OFFSET_SECONDS;
}

export interface GranularityRules {
  allowed: readonly number[];
  /** Ascending: a range up to `upTo` seconds needs at least `min` seconds of granularity. */
  steps: ReadonlyArray<{ upTo: number; min: number }>;
  /** Longest range accepted, in seconds. */
  maxRange: number;
  maxRangeText: string;
}

/** DescribeListenerStatistics: 300/3600/86400; ≤1 day → 300, ≤7 days → 3600, longer → 86400. */
export const LISTENER_RULES: GranularityRules = {
  allowed: [300, 3600, 86400],
  steps: [{ upTo: DAY, min: 300 }, { upTo: 7 * DAY, min: 3600 }, { upTo: Number.POSITIVE_INFINITY, min: 86400 }],
  // The document sets no limit; the emulator keeps a year of counters.
  maxRange: 366 * DAY,
  maxRangeText: '366 days',
};

/** DescribeProxyGroupStatistics: 60/300/3600/86400; ≤1 day → 60, ≤7 days → 3600, ≤30 days → 86400. */
export const GROUP_RULES: GranularityRules = {
  allowed: [60, 300, 3600, 86400],
  steps: [{ upTo: DAY, min: 60 }, { upTo: 7 * DAY, min: 3600 }, { upTo: 30 * DAY, min: 86400 }],
  maxRange: 30 * DAY,
  maxRangeText: '30 days',
};

/** DescribeProxyStatistics: 60/300/3600/86400; ≤3 days → 60, ≤7 days → 300, ≤30 days → 3600. */
export const PROXY_RULES: GranularityRules = {
  allowed: [60, 300, 3600, 86400],
  steps: [{ upTo: 3 * DAY, min: 60 }, { upTo: 7 * DAY, min: 300 }, { upTo: 30 * DAY, min: 3600 }],
  maxRange: 30 * DAY,
  maxRangeText: '30 days',
};

/** DescribeRealServerStatistics: 60 or 300 over at most a day. */
export const REAL_SERVER_RULES: GranularityRules = {
  allowed: [60, 300],
  steps: [{ upTo: DAY, min: 60 }],
  maxRange: DAY,
  maxRangeText: '1 day',
};

export interface TimeRange {
  start: number;
  end: number;
  granularity: number;
}

/** Parses and checks StartTime / EndTime / Granularity against the action's rules. */
export function checkTimeRange(input: { StartTime: string; EndTime: string; Granularity: number }, rules: GranularityRules): TimeRange {
  const start = parseTime('StartTime', input.StartTime);
  const end = parseTime('EndTime', input.EndTime);
  if (end < start) throw invalidParameterValue('EndTime', `\`${input.EndTime}\` is earlier than StartTime \`${input.StartTime}\``);
  return checkGranularity(start, end, input.Granularity, rules);
}

export function checkGranularity(start: number, end: number, granularity: number, rules: GranularityRules): TimeRange {
  if (!rules.allowed.includes(granularity)) {
    throw invalidParameterValue('Granularity', `${granularity} is not one of ${rules.allowed.join(', ')} seconds`);
  }
  const range = end - start;
  if (range > rules.maxRange) throw invalidParameterValue('EndTime', `the time range may not exceed ${rules.maxRangeText}`);
  const step = rules.steps.find((s) => range <= s.upTo)!;
  if (granularity < step.min) {
    throw invalidParameterValue('Granularity', `a time range of ${describe(range)} needs a granularity of at least ${step.min} seconds`);
  }
  return { start, end, granularity };
}

function describe(seconds: number): string {
  if (seconds >= DAY) return `${Math.round((seconds / DAY) * 10) / 10} days`;
  return `${Math.round((seconds / 3600) * 10) / 10} hours`;
}

/** Bucket starts (aligned on Beijing-time boundaries), newest first as the document's examples list them. */
export function bucketStarts(r: TimeRange): number[] {
  const align = (t: number) => Math.floor((t + OFFSET_SECONDS) / r.granularity) * r.granularity - OFFSET_SECONDS;
  const out: number[] = [];
  for (let t = align(r.end); t >= align(r.start); t -= r.granularity) out.push(t);
  return out;
}

/**
 * One point per bucket: the maximum of the minute slots inside it, 0 when no
 * sample was recorded (nothing flowed), null for buckets that have not begun
 * yet (`nowSeconds`), or when `missing` is null (no measurement at all).
 */
export function bucketize(r: TimeRange, slots: Slots, nowSeconds: number, missing: number | null = 0): Array<{ Time: number; Data: number | null }> {
  const starts = bucketStarts(r);
  const max = new Map<number, number>();
  const align = (t: number) => Math.floor((t + OFFSET_SECONDS) / r.granularity) * r.granularity - OFFSET_SECONDS;
  for (const [minute, v] of slots) {
    const b = align(minute);
    const m = max.get(b);
    if (m === undefined || v > m) max.set(b, v);
  }
  return starts.map((t) => (t > nowSeconds ? { Time: t, Data: null } : { Time: t, Data: max.get(t) ?? missing }));
}
