/**
 * GAAP statistics: per-bucket maxima of the counters the service records
 * (stats/model.ts), plus the two INTERNAL discovery lists of proxies,
 * groups and listeners that have statistics. The counters come from the
 * traffic the data plane carried; where none flowed, past buckets are 0 —
 * never invented traffic.
 */
import { ApiError, invalidParameterValue, resourceNotFound } from '../../../core/errors';
import type { DescribeGroupAndStatisticsProxyRequest, DescribeListenerStatisticsRequest, DescribeProxyAndStatisticsListenersRequest, DescribeProxyGroupStatisticsRequest, DescribeProxyStatisticsRequest, DescribeRealServerStatisticsRequest, GaapActions, ListenerInfo } from '../../../spec/gaap.types';
import type { ResourceRecord, StoreTx } from '../../../store/types';
import type { ActionContext, HandlerPart, TransitionHandler } from '../../types';
import { KIND } from '../kinds';
import { readSlots, type StatsScope } from './model';
import { bucketize, checkGranularity, checkTimeRange, GROUP_RULES, LISTENER_RULES, parseTime, PROXY_RULES, REAL_SERVER_RULES, type GranularityRules } from './time';

/** Metrics of listeners and groups; proxies add quality and HTTP metrics. */
const TRAFFIC_METRICS = ['InBandwidth', 'OutBandwidth', 'Concurrent', 'InPackets', 'OutPackets'];
const PROXY_METRICS = [...TRAFFIC_METRICS, 'PacketLoss', 'Latency', 'HttpQPS', 'HttpQPSPercent', 'HttpsQPS', 'HttpsQPSPercent'];
/** The document's examples spell the bandwidth metrics this way. */
const ALIASES: Record<string, string> = { InputBandwidth: 'InBandwidth', OutputBandwidth: 'OutBandwidth' };

/** Requested names (trimmed, deduplicated) with the counter each reads. */
function metricsOf(names: string[], allowed: readonly string[]): Array<{ name: string; metric: string }> {
  if (names.length === 0) throw invalidParameterValue('MetricNames', `at least one metric is required (${allowed.join(', ')})`);
  const seen = new Set<string>();
  const out: Array<{ name: string; metric: string }> = [];
  for (const raw of names) {
    const name = raw.trim();
    const metric = ALIASES[name] ?? name;
    if (!allowed.includes(metric)) throw invalidParameterValue('MetricNames', `\`${name}\` is not one of ${allowed.join(', ')}`);
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ name, metric });
  }
  return out;
}

/** The time-series parameters the listener, group and proxy statistics share. */
type SeriesInput = Pick<DescribeListenerStatisticsRequest, 'StartTime' | 'EndTime' | 'MetricNames' | 'Granularity'>;

async function series(ctx: ActionContext, scope: StatsScope, id: string, input: SeriesInput, allowed: readonly string[], rules: GranularityRules) {
  const metrics = metricsOf(input.MetricNames, allowed);
  const range = checkTimeRange(input, rules);
  const now = Math.floor(ctx.now / 1000);
  const out = [];
  for (const m of metrics) {
    const slots = await readSlots(ctx.tx, scope, id, m.metric, range.start - range.granularity, range.end + range.granularity);
    out.push({ MetricName: m.name, MetricData: bucketize(range, slots, now) });
  }
  return { StatisticsData: out };
}

async function mustExist(ctx: ActionContext, kind: string, id: string, what: string): Promise<ResourceRecord> {
  const rec = await ctx.tx.get(kind, id);
  if (!rec) throw resourceNotFound(what, id);
  return rec;
}

const str = (v: unknown, dflt = ''): string => (typeof v === 'string' ? v : dflt);
const int = (v: unknown, dflt = 0): number => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : Number.isFinite(Number(v)) && v !== '' && v !== null && v !== undefined ? Math.trunc(Number(v)) : dflt);

/** ProjectId -1 means every project, as in the other GAAP lists. */
const inProject = (data: Record<string, unknown>, projectId: number): boolean => projectId === -1 || int(data.ProjectId) === projectId;

/** Listeners of the account indexed by owner (proxy or group id), read defensively from whatever the listener records hold. */
async function listenersByOwner(tx: StoreTx): Promise<Map<string, ListenerInfo[]>> {
  const byOwner = new Map<string, ListenerInfo[]>();
  const { items } = await tx.list(KIND.listener);
  for (const rec of items) {
    const d = (rec.data ?? {}) as Record<string, unknown>;
    const info: ListenerInfo = {
      ListenerId: str(d.ListenerId, rec.id),
      ListenerName: str(d.ListenerName),
      Port: int(d.Port),
      Protocol: str(d.Protocol).toUpperCase(),
    };
    const owners = new Set([str(d.ProxyId), str(d.GroupId), rec.parent ?? ''].filter(Boolean));
    for (const o of owners) {
      const list = byOwner.get(o) ?? [];
      list.push(info);
      byOwner.set(o, list);
    }
  }
  return byOwner;
}

function proxySimpleInfo(rec: ResourceRecord, listeners: Map<string, ListenerInfo[]>) {
  const d = (rec.data ?? {}) as Record<string, unknown>;
  const id = str(d.ProxyId, rec.id);
  const own = listeners.get(id) ?? [];
  // A proxy of a group serves the group's listeners.
  const group = str(d.GroupId);
  const shared = group ? listeners.get(group) ?? [] : [];
  const seen = new Set<string>();
  const list = [...own, ...shared].filter((l) => !seen.has(l.ListenerId) && seen.add(l.ListenerId));
  return { ProxyId: id, ProxyName: str(d.ProxyName), ListenerList: list };
}

const WITHIN_HOURS = [1, 3, 6, 12, 24];

export const handlers = {
  DescribeListenerStatistics: async (input: DescribeListenerStatisticsRequest, ctx) => {
    await mustExist(ctx, KIND.listener, input.ListenerId, 'listener');
    return series(ctx, 'listener', input.ListenerId, input, TRAFFIC_METRICS, LISTENER_RULES);
  },

  DescribeProxyGroupStatistics: async (input: DescribeProxyGroupStatisticsRequest, ctx) => {
    await mustExist(ctx, KIND.group, input.GroupId, 'proxy group');
    return series(ctx, 'group', input.GroupId, input, TRAFFIC_METRICS, GROUP_RULES);
  },

  DescribeProxyStatistics: async (input: DescribeProxyStatisticsRequest, ctx) => {
    if (input.Isp !== undefined && !['', 'CMCC', 'CUCC', 'CTCC'].includes(input.Isp)) {
      throw invalidParameterValue('Isp', `\`${input.Isp}\` is not one of CMCC, CUCC, CTCC`);
    }
    await mustExist(ctx, KIND.proxy, input.ProxyId, 'proxy');
    // Counters are kept for the proxy as a whole; an ISP selects the same (merged) series.
    return series(ctx, 'proxy', input.ProxyId, input, PROXY_METRICS, PROXY_RULES);
  },

  DescribeRealServerStatistics: async (input: DescribeRealServerStatisticsRequest, ctx) => {
    if (input.ListenerId === undefined && input.RuleId === undefined) {
      throw new ApiError('MissingParameter', 'The request is missing a required parameter: one of `ListenerId` or `RuleId` must be set.');
    }
    await mustExist(ctx, KIND.realServer, input.RealServerId, 'real server');
    if (input.ListenerId !== undefined) await mustExist(ctx, KIND.listener, input.ListenerId, 'listener');
    if (input.RuleId !== undefined) await mustExist(ctx, KIND.rule, input.RuleId, 'rule');
    const now = Math.floor(ctx.now / 1000);
    const granularity = input.Granularity ?? 60;
    let start: number;
    let end: number;
    if (input.StartTime !== undefined || input.EndTime !== undefined) {
      if (input.StartTime === undefined) throw new ApiError('MissingParameter', 'The request is missing a required parameter `StartTime` (EndTime is set).');
      if (input.EndTime === undefined) throw new ApiError('MissingParameter', 'The request is missing a required parameter `EndTime` (StartTime is set).');
      start = parseTime('StartTime', input.StartTime);
      end = parseTime('EndTime', input.EndTime);
      if (end < start) throw invalidParameterValue('EndTime', `\`${input.EndTime}\` is earlier than StartTime \`${input.StartTime}\``);
    } else {
      const hours = input.WithinTime ?? 1;
      if (!WITHIN_HOURS.includes(hours)) throw invalidParameterValue('WithinTime', `${hours} is not one of ${WITHIN_HOURS.join(', ')} hours`);
      end = now;
      start = now - hours * 3600;
    }
    const range = checkGranularity(start, end, granularity, REAL_SERVER_RULES);
    const binding = `${input.RealServerId}@${input.RuleId ?? input.ListenerId}`;
    const slots = await readSlots(ctx.tx, 'realServer', binding, 'Health', range.start - range.granularity, range.end + range.granularity);
    // Health is 1 (normal) or 0 (abnormal) only when a health check reported it; no report → null.
    const data = bucketize(range, slots, now, null);
    return { StatisticsData: data, RsStatisticsData: [{ MetricName: input.RealServerId, MetricData: data }] };
  },

  DescribeProxyAndStatisticsListeners: async (input: DescribeProxyAndStatisticsListenersRequest, ctx) => {
    const listeners = await listenersByOwner(ctx.tx);
    const { items } = await ctx.tx.list(KIND.proxy);
    const set = items.filter((p) => inProject((p.data ?? {}) as Record<string, unknown>, input.ProjectId)).map((p) => proxySimpleInfo(p, listeners));
    return { ProxySet: set, TotalCount: set.length };
  },

  DescribeGroupAndStatisticsProxy: async (input: DescribeGroupAndStatisticsProxyRequest, ctx) => {
    const listeners = await listenersByOwner(ctx.tx);
    const groups = (await ctx.tx.list(KIND.group)).items.filter((g) => inProject((g.data ?? {}) as Record<string, unknown>, input.ProjectId));
    const proxies = (await ctx.tx.list(KIND.proxy)).items;
    const set = groups.map((g) => {
      const d = (g.data ?? {}) as Record<string, unknown>;
      const id = str(d.GroupId, g.id);
      const members = proxies.filter((p) => str(((p.data ?? {}) as Record<string, unknown>).GroupId) === id || p.parent === id);
      return { GroupId: id, GroupName: str(d.GroupName), ProxySet: members.map((p) => proxySimpleInfo(p, listeners)) };
    });
    return { GroupSet: set, TotalCount: set.length };
  },
} satisfies HandlerPart<GaapActions>;

export const transitions: Record<string, TransitionHandler> = {};
