import { ApiError, invalidParameter, invalidParameterValue, missingParameter, resourceNotFound } from '../../../core/errors';
import type { CheckProxyCreateRequest, CloseProxiesRequest, CreateProxyRequest, DescribeProxiesRequest, DescribeProxiesStatusRequest, DescribeProxyDetailRequest, DestroyProxiesRequest, GaapActions, ModifyProxiesAttributeRequest, ModifyProxiesProjectRequest, ModifyProxyConfigurationRequest, OpenProxiesRequest, TagPair } from '../../../spec/gaap.types';
import type { Store, StoreTx } from '../../../store/types';
import type { ActionContext, HandlerOf, HandlerPart, TransitionHandler } from '../../types';
import { RawJson } from '../../../core/raw-json';
import { noop } from '../../kit/noop';
import { paging } from '../../kit/paging';
import { checkTagFilter, checkTagSet } from '../../kit/tags';
import { KIND, checkProjectId, proxyIdsOf, proxyIdsParam, unixSeconds } from '../kinds';
import { finishSwitch, switchProxies, PROXY, proxyLife, type ProxyData, type ProxyRec, idempotent, listPage, refreshGroupStatus, removeProxy, withRelatedGlobalDomains } from './model';
import { checkFilters, checkAccessRegion, checkBandwidth, checkBillingType, checkConcurrent, checkDestRegion, checkProxyName, completeCreation, insertProxy, normalizeIpVersion, normalizeNetworkType, normalizePackageType } from './create';
import { findRegion } from '../catalogue/model';
import { startTask } from '../task/model';
import { getGroup, groupLife } from '../group/model';
import { ownerHasBoundRealServers } from '../listener/model';
import { TAG_CODES } from '../tag/model';



const T = {
  created: 'proxy.created',
  opened: 'proxy.opened',
  closed: 'proxy.closed',
  destroyed: 'proxy.destroyed',
  adjusted: 'proxy.adjusted',
} as const;

const notFound = (id: string) => resourceNotFound('proxy', id);

async function getProxy(tx: StoreTx, id: string): Promise<ProxyRec> {
  const rec = await tx.get<ProxyData>(KIND.proxy, id);
  if (!rec) throw notFound(id);
  return rec;
}

/** The proxies named by ProxyIds/InstanceIds, all of which must exist (duplicates dropped). */
async function namedProxies(ctx: ActionContext, input: { ProxyIds?: string[]; InstanceIds?: string[] }): Promise<ProxyRec[]> {
  const ids = proxyIdsOf(input);
  if (!ids || ids.length === 0) throw missingParameter(proxyIdsParam(input));
  if (ids.length > 100) throw invalidParameterValue(proxyIdsParam(input), 'at most 100 proxies may be given');
  const out: ProxyRec[] = [];
  for (const id of [...new Set(ids)]) out.push(await getProxy(ctx.tx, id));
  return out;
}

// ---------------------------------------------------------------- create

const CreateProxy: HandlerOf<GaapActions, 'CreateProxy'> = (input, ctx) =>
  idempotent(ctx, input, async () => {
    checkProjectId(input.ProjectId, 'InvalidParameterValue.ProjectIdNotBelong');
    checkProxyName(input.ProxyName);
    let source: ProxyRec | undefined;
    if (input.ClonedProxyId) {
      source = await getProxy(ctx.tx, input.ClonedProxyId);
      if (source.status !== PROXY.RUNNING) {
        throw new ApiError('FailedOperation', `The proxy \`${source.id}\` is ${source.status}; only a RUNNING proxy can be cloned.`);
      }
    }
    const src = source?.data as Record<string, any> | undefined;
    let groupId: string | null = input.GroupId || null;
    let dest = input.RealServerRegion || undefined;
    let ipVersion = normalizeIpVersion(input.IPAddressVersion ?? src?.IPAddressVersion);
    let packageType = normalizePackageType(input.PackageType ?? src?.PackageType);
    if (groupId) {
      const g = await getGroup(ctx.tx, groupId);
      if (groupLife.isBusy(g)) {
        throw new ApiError('FailedOperation', `The proxy group \`${groupId}\` is ${g.status}; proxies can be added once it is running.`);
      }
      if (dest && dest !== g.data.RealServerRegion) {
        throw new ApiError('InvalidParameterValue.ProxyAndGroupFeatureConflict', `The value of parameter \`RealServerRegion\` is not valid: the proxy group \`${groupId}\` accelerates to \`${g.data.RealServerRegion}\`.`);
      }
      dest = g.data.RealServerRegion;
      if (input.IPAddressVersion && ipVersion !== g.data.IPAddressVersion) {
        throw new ApiError('InvalidParameterValue.ProxyAndGroupFeatureConflict', `The value of parameter \`IPAddressVersion\` is not valid: the proxy group \`${groupId}\` is ${g.data.IPAddressVersion}.`);
      }
      if (input.PackageType && packageType !== g.data.PackageType) {
        throw new ApiError('InvalidParameterValue.ProxyAndGroupFeatureConflict', `The value of parameter \`PackageType\` is not valid: the proxy group \`${groupId}\` is ${g.data.PackageType}.`);
      }
      ipVersion = g.data.IPAddressVersion;
      packageType = g.data.PackageType;
    } else if (!dest && src) {
      dest = src.RealServerRegion;
    }
    if (!dest) throw missingParameter('RealServerRegion');
    // CreateProxy documents no Unknown*Region codes: unknown regions are plain InvalidParameterValue.
    checkDestRegion(dest, 'RealServerRegion', false);
    checkAccessRegion(input.AccessRegion, dest, 'AccessRegion', false);
    checkBandwidth(input.Bandwidth);
    checkConcurrent(input.Concurrent);
    const networkType = normalizeNetworkType(input.NetworkType ?? src?.NetworkType);
    if (networkType === 'triple' && !findMainland(input.AccessRegion)) {
      throw new ApiError('InvalidParameterValue.ProxyAndRegionFeatureConflict', `The value of parameter \`NetworkType\` is not valid: triple-carrier access is only offered in mainland China regions, not \`${input.AccessRegion}\`.`);
    }
    const tags = checkTagSet(input.TagSet ?? (src?.TagSet as TagPair[] | undefined), TAG_CODES);
    const id = await insertProxy(ctx, {
      ProjectId: input.ProjectId,
      ProxyName: input.ProxyName,
      AccessRegion: input.AccessRegion,
      RealServerRegion: dest,
      Bandwidth: input.Bandwidth,
      Concurrent: input.Concurrent,
      GroupId: groupId,
      TagSet: tags,
      BillingType: checkBillingType(input.BillingType ?? src?.BillingType),
      IPAddressVersion: ipVersion,
      NetworkType: networkType,
      PackageType: packageType,
      Status: source ? PROXY.CLONING : PROXY.CREATING,
    });
    await startTask(ctx, T.created, { ids: [id] });
    return { InstanceId: id };
  });

const findMainland = (regionId: string): boolean => findRegion(regionId)?.mainland === true;

const CheckProxyCreate: HandlerOf<GaapActions, 'CheckProxyCreate'> = async (input: CheckProxyCreateRequest, ctx) => {
  checkDestRegion(input.RealServerRegion);
  checkAccessRegion(input.AccessRegion, input.RealServerRegion);
  checkBandwidth(input.Bandwidth);
  checkConcurrent(input.Concurrent);
  const ipVersion = normalizeIpVersion(input.IPAddressVersion);
  const packageType = normalizePackageType(input.PackageType);
  normalizeNetworkType(input.NetworkType, ['normal', 'cn2']);
  let flag = 1;
  if (input.GroupId) {
    const g = await ctx.tx.get<Record<string, unknown>>(KIND.group, input.GroupId);
    if (!g || g.status === 'DESTROYING' || g.data.RealServerRegion !== input.RealServerRegion
      || (input.IPAddressVersion && g.data.IPAddressVersion !== ipVersion)
      || (input.PackageType && g.data.PackageType !== packageType)) flag = 0;
  }
  return { CheckFlag: flag };
};

// ---------------------------------------------------------------- describe

const FILTER_NAMES = ['ProjectId', 'AccessRegion', 'RealServerRegion', 'GroupId', 'IPAddressVersion', 'PackageType'];
const ORDER_FIELDS: Record<string, string | undefined> = {
  create_time: undefined, proxy_id: 'ProxyId', bandwidth: 'Bandwidth', concurrent_connections: 'Concurrent',
};

const DescribeProxies: HandlerOf<GaapActions, 'DescribeProxies'> = async (input: DescribeProxiesRequest, ctx) => {
  const ids = proxyIdsOf(input);
  if (ids && input.Filters && input.Filters.length > 0) {
    throw new ApiError('InvalidParameter', `The parameters \`${proxyIdsParam(input)}\` and \`Filters\` cannot be given together.`);
  }
  if (ids && ids.length > 100) throw invalidParameterValue(proxyIdsParam(input), 'at most 100 proxies may be given');
  const { offset, limit } = paging(input, { maxLimit: 100 });
  const where = checkFilters(input.Filters, FILTER_NAMES, 10);
  const order = input.Order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw invalidParameterValue('Order', 'expected asc or desc');
  const orderKey = input.OrderField ?? 'create_time';
  if (!(orderKey in ORDER_FIELDS)) throw invalidParameterValue('OrderField', `expected one of ${Object.keys(ORDER_FIELDS).join(', ')}`);
  if (input.Independent !== undefined && input.Independent !== 0 && input.Independent !== 1) {
    throw invalidParameterValue('Independent', 'expected 0 (proxies in groups) or 1 (proxies outside groups)');
  }
  const tags = checkTagFilter(input.TagSet);
  let parent: null | undefined;
  if (input.Independent === 1) parent = null;
  if (input.Independent === 0) {
    const groups = (await ctx.tx.list(KIND.group, {})).items.map((g) => g.id);
    where.push({ field: 'GroupId', values: groups });
  }
  const empty = (ids && ids.length === 0) || where.some((w) => w.values.length === 0);
  const query = { ids, where, parent, orderField: ORDER_FIELDS[orderKey], descending: order === 'desc', offset, limit };
  if (!empty && !tags && (await ctx.tx.list(KIND.dnsRecord, { limit: 0 })).total === 0) {
    // Stored records are ProxyInfo as answered (ProxyData; RelatedGlobalDomains empty while no DNS
    // record exists): the page goes out as stored, never parsed.
    const page = await ctx.tx.listJson(KIND.proxy, query);
    const set = new RawJson(page.json);
    return { TotalCount: page.total, InstanceSet: set, ProxySet: set };
  }
  const { total, items } = empty
    ? { total: 0, items: [] }
    : await listPage<ProxyData>(ctx.tx, KIND.proxy, query, tags);
  const set = await withRelatedGlobalDomains(ctx.tx, items.map((r) => r.data));
  return { TotalCount: total, InstanceSet: set, ProxySet: set };
};

const DescribeProxiesStatus: HandlerOf<GaapActions, 'DescribeProxiesStatus'> = async (input: DescribeProxiesStatusRequest, ctx) => {
  const ids = proxyIdsOf(input);
  if (ids && ids.length > 100) throw invalidParameterValue(proxyIdsParam(input), 'at most 100 proxies may be given');
  const { items } = ids && ids.length === 0 ? { items: [] } : await ctx.tx.list<ProxyData>(KIND.proxy, { ids, descending: true });
  // ProxyStatus knows no CLONING/RECOVERING: a clone is reported as being created, maintenance as running.
  const shown = (s: string) => (s === PROXY.CLONING ? PROXY.CREATING : s === PROXY.RECOVERING ? PROXY.RUNNING : s);
  return { InstanceStatusSet: items.map((r) => ({ InstanceId: r.id, Status: shown(r.status ?? r.data.Status) })) };
};

const DescribeProxyDetail: HandlerOf<GaapActions, 'DescribeProxyDetail'> = async (input: DescribeProxyDetailRequest, ctx) => {
  const rec = await getProxy(ctx.tx, input.ProxyId);
  const [detail] = await withRelatedGlobalDomains(ctx.tx, [rec.data]);
  return { ProxyDetail: detail };
};

// ---------------------------------------------------------------- open / close / destroy

const OpenProxies: HandlerOf<GaapActions, 'OpenProxies'> = (input, ctx) =>
  idempotent(ctx, input, async () => switchProxies(ctx, await namedProxies(ctx, input), PROXY.CLOSED, PROXY.OPENING, T.opened));

const CloseProxies: HandlerOf<GaapActions, 'CloseProxies'> = (input, ctx) =>
  idempotent(ctx, input, async () => switchProxies(ctx, await namedProxies(ctx, input), PROXY.RUNNING, PROXY.CLOSING, T.closed));

const DESTROYABLE = new Set<string>([PROXY.RUNNING, PROXY.CLOSED, PROXY.ISOLATED]);

const DestroyProxies: HandlerOf<GaapActions, 'DestroyProxies'> = (input, ctx) =>
  idempotent(ctx, input, async () => {
    if (input.Force !== 0 && input.Force !== 1) throw invalidParameterValue('Force', 'expected 0 or 1');
    const recs = await namedProxies(ctx, input);
    const owners = new Set(recs.map((r) => r.data.GroupId ?? ''));
    if (owners.size > 1) {
      throw new ApiError('FailedOperation.BelongDifferentGroup', 'The proxies belong to different proxy groups and cannot be destroyed in one call.');
    }
    const destroyable = recs.filter((r) => DESTROYABLE.has(r.status ?? ''));
    if (input.Force === 0) {
      for (const r of destroyable) {
        if (await ownerHasBoundRealServers(ctx.tx, r.id, 'ProxyId')) {
          throw new ApiError('FailedOperation.RealServerAlreadyBound', `A listener or rule of the proxy \`${r.id}\` has real servers bound; unbind them or set \`Force\` to 1.`);
        }
      }
    }
    for (const r of destroyable) await proxyLife.move(ctx.tx, r, PROXY.DESTROYING);
    const groupId = [...owners][0];
    if (groupId) await refreshGroupStatus(ctx.tx, groupId);
    if (destroyable.length > 0) await startTask(ctx, T.destroyed, { ids: destroyable.map((r) => r.id) });
    // An operation in flight: retry later. Already being destroyed: nothing to do.
    const rest = recs.filter((r) => !DESTROYABLE.has(r.status ?? ''));
    return {
      InvalidStatusInstanceSet: rest.filter((r) => r.status === PROXY.DESTROYING).map((r) => r.id),
      OperationFailedInstanceSet: rest.filter((r) => r.status !== PROXY.DESTROYING).map((r) => r.id),
    };
  });

// ---------------------------------------------------------------- modify

/** Writes `patch` into each proxy's data; none of them may be being destroyed. */
async function patchProxies(ctx: ActionContext, recs: ProxyRec[], patch: Partial<ProxyData>): Promise<Record<string, never>> {
  for (const r of recs) {
    if (r.status === PROXY.DESTROYING) throw new ApiError('FailedOperation', `The proxy \`${r.id}\` is being destroyed.`);
  }
  for (const r of recs) await ctx.tx.put({ ...r, data: { ...r.data, ...patch } });
  return {};
}

const ModifyProxiesAttribute: HandlerOf<GaapActions, 'ModifyProxiesAttribute'> = (input, ctx) =>
  idempotent(ctx, input, async () => {
    const recs = await namedProxies(ctx, input);
    if (input.ProxyName === undefined) return {};
    checkProxyName(input.ProxyName);
    return patchProxies(ctx, recs, { ProxyName: input.ProxyName });
  });

const ModifyProxiesProject: HandlerOf<GaapActions, 'ModifyProxiesProject'> = (input, ctx) =>
  idempotent(ctx, input, async () => {
    checkProjectId(input.ProjectId);
    const recs = await namedProxies(ctx, input);
    return patchProxies(ctx, recs, { ProjectId: input.ProjectId });
  });

const ModifyProxyConfiguration: HandlerOf<GaapActions, 'ModifyProxyConfiguration'> = (input, ctx) =>
  idempotent(ctx, input, async () => {
    const id = input.ProxyId ?? input.InstanceId;
    if (!id) throw missingParameter('ProxyId');
    if (input.Bandwidth === undefined && input.Concurrent === undefined) {
      throw invalidParameter('Bandwidth', 'at least one of `Bandwidth` and `Concurrent`');
    }
    if (input.Bandwidth !== undefined) checkBandwidth(input.Bandwidth, false);
    if (input.Concurrent !== undefined) checkConcurrent(input.Concurrent, false);
    const billing = input.BillingType === undefined ? undefined : checkBillingType(input.BillingType);
    const rec = await getProxy(ctx.tx, id);
    proxyLife.assertIdle(rec, 'FailedOperation');
    if (rec.status !== PROXY.RUNNING) throw new ApiError('FailedOperation', `The proxy \`${id}\` is ${rec.status}; only a RUNNING proxy can be reconfigured.`);
    if (rec.data.Scalarable !== 1) throw new ApiError('FailedOperation.NotSupportScalar', `The proxy \`${id}\` does not support configuration changes.`);
    await proxyLife.begin(ctx, rec, PROXY.ADJUSTING, T.adjusted, { id, Bandwidth: input.Bandwidth, Concurrent: input.Concurrent, BillingType: billing });
    await refreshGroupStatus(ctx.tx, rec.data.GroupId);
    return {};
  });

// ---------------------------------------------------------------- no-ops

/** Bans, cross-border approval and signatures have nothing behind them locally. */
const empty = noop(() => ({}));

export const handlers = {
  CreateProxy,
  CheckProxyCreate,
  DescribeProxies,
  DescribeProxiesStatus,
  DescribeProxyDetail,
  OpenProxies,
  CloseProxies,
  DestroyProxies,
  ModifyProxiesAttribute,
  ModifyProxiesProject,
  ModifyProxyConfiguration,
  BanAndRecoverProxy: empty,
  DescribeCrossBorderProxies: empty,
  DescribeAuthSignature: empty,
} satisfies HandlerPart<GaapActions>;

// ---------------------------------------------------------------- transitions

export const transitions: Record<string, TransitionHandler> = {
  [T.created]: async (p: { ids: string[] }, tx) => completeCreation(tx, p.ids),
  [T.opened]: async (p: { ids: string[] }, tx) => finishSwitch(tx, p.ids, PROXY.OPENING, PROXY.RUNNING),
  [T.closed]: async (p: { ids: string[] }, tx) => finishSwitch(tx, p.ids, PROXY.CLOSING, PROXY.CLOSED),
  [T.destroyed]: async (p: { ids: string[] }, tx) => {
    const groups = new Set<string>();
    for (const id of p.ids) {
      const rec = await tx.get<ProxyData>(KIND.proxy, id);
      if (!rec || rec.status !== PROXY.DESTROYING) continue;
      await removeProxy(tx, id);
      if (rec.data.GroupId) groups.add(rec.data.GroupId);
    }
    for (const g of groups) await refreshGroupStatus(tx, g);
  },
  [T.adjusted]: async (p: { id: string; Bandwidth?: number; Concurrent?: number; BillingType?: number }, tx, now) => {
    const rec = await tx.get<ProxyData>(KIND.proxy, p.id);
    if (!rec || rec.status !== PROXY.ADJUSTING) return;
    const bandwidth = p.Bandwidth ?? rec.data.Bandwidth;
    const ipList = Array.isArray(rec.data.IPList) ? rec.data.IPList.map((x) => ({ ...x, Bandwidth: bandwidth })) : [];
    await proxyLife.move(tx, rec, PROXY.RUNNING, {
      Bandwidth: bandwidth,
      Concurrent: p.Concurrent ?? rec.data.Concurrent,
      BillingType: p.BillingType ?? rec.data.BillingType,
      IPList: ipList,
      ModifyConfigTime: unixSeconds(now),
    });
    await refreshGroupStatus(tx, rec.data.GroupId);
  },
};

export function prepare(store: Store): void {
  // Indexes for the selective filters only: every index costs each proxy write.
  // IPAddressVersion / PackageType match most proxies (a walk in creation order
  // finds a page quickly), and ordering by bandwidth, concurrency or id is rare.
  for (const f of ['ProjectId', 'AccessRegion', 'RealServerRegion', 'GroupId']) store.ensureFieldIndex(KIND.proxy, f);
  // Destroying a proxy or group looks up its listeners by owner.
  store.ensureFieldIndex(KIND.listener, 'ProxyId');
  store.ensureFieldIndex(KIND.listener, 'GroupId');
}
