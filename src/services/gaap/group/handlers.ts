import { isIP } from 'node:net';
import { ApiError, invalidParameterValue } from '../../../core/errors';
import { resourceId } from '../../../core/ids';
import type { CloseProxyGroupRequest, CountryAreaMap, CreateProxyGroupDomainRequest, CreateProxyGroupRequest, DeleteProxyGroupRequest, DescribeGroupDomainConfigRequest, DescribeProxyGroupDetailsRequest, DescribeProxyGroupListRequest, GaapActions, ModifyGroupDomainConfigRequest, ModifyProxyGroupAttributeRequest, OpenProxyGroupRequest, ProxyGroupDetail, ProxyGroupInfo } from '../../../spec/gaap.types';
import type { ResourceRecord, Store, StoreTx } from '../../../store/types';
import type { HandlerOf, HandlerPart, TransitionHandler } from '../../types';
import { countryAreaMap, isCountryCode } from '../catalogue/model';
import { KIND, checkProjectId, unixSeconds } from '../kinds';
import { paging } from '../../kit/paging';
import { clearCounters } from '../stats/model';
import { checkTagFilter, checkTagSet } from '../../kit/tags';
import { PROXY, proxyLife, type ProxyData, type ProxyRec, listPage, removeProxy, finishSwitch, switchProxies } from '../proxy/model';
import { checkAccessRegion, checkBandwidth, checkConcurrent, checkDestRegion, completeCreation, insertProxy, normalizeIpVersion, normalizeNetworkType, normalizePackageType, checkFilters } from '../proxy/create';
import { findRegion, regionDetail } from '../catalogue/model';
import { startTask } from '../task/model';
import { DOMAIN_CONF_NS, GROUP_STATUS_CODE, getGroup, groupLife, type GroupData } from './model';
import { ownerHasBoundRealServers, removeListenersOf } from '../listener/model';
import { removePolicyOf } from '../security/model';
import { TAG_CODES } from '../tag/model';

/**
 * Proxy groups. A group record keeps ProxyGroupDetail fields in `data`
 * (`Status` the integer code) plus `RealServerRegion`; the record's status
 * column holds the ProxyGroupInfo string status.
 */

const T = { created: 'proxyGroup.created', deleted: 'proxyGroup.deleted', opened: 'proxyGroup.opened', closed: 'proxyGroup.closed' } as const;

/** ProxyGroupDetail of a group: its stored data without the internal RealServerRegion, with its proxies counted now. */
function detailOf(rec: ResourceRecord<GroupData>, proxyNum: number): ProxyGroupDetail {
  const { RealServerRegion: _internal, ...detail } = rec.data;
  return { ...detail, ProxyNum: proxyNum, Status: GROUP_STATUS_CODE[rec.status ?? 'RUNNING'] ?? 0 };
}

/** ProxyGroupInfo of a group: the list's summary, with the string status of the record's column. */
function infoOf(rec: ResourceRecord<GroupData>): ProxyGroupInfo {
  const d = rec.data;
  return {
    GroupId: d.GroupId,
    Domain: d.Domain ?? null,
    GroupName: d.GroupName,
    ProjectId: d.ProjectId,
    RealServerRegionInfo: d.RealServerRegionInfo,
    Status: rec.status ?? 'RUNNING',
    TagSet: d.TagSet ?? [],
    Version: d.Version,
    CreateTime: d.CreateTime,
    ProxyType: 0,
    Http3Supported: d.Http3Supported,
    FeatureBitmap: d.FeatureBitmap ?? null,
  };
}

function checkGroupName(name: string): void {
  if (name.trim() === '' || [...name].length > 30) throw invalidParameterValue('GroupName', 'expected 1 to 30 characters');
}

async function proxiesOfGroup(tx: StoreTx, groupId: string): Promise<ProxyRec[]> {
  return (await tx.list<ProxyData>(KIND.proxy, { parent: groupId })).items;
}

const CreateProxyGroup: HandlerOf<GaapActions, 'CreateProxyGroup'> = async (input: CreateProxyGroupRequest, ctx) => {
  checkProjectId(input.ProjectId);
  checkGroupName(input.GroupName);
  // CreateProxyGroup documents none of the region/capacity codes: they are plain InvalidParameterValue here.
  checkDestRegion(input.RealServerRegion, 'RealServerRegion', false);
  const ipVersion = normalizeIpVersion(input.IPAddressVersion);
  const packageType = normalizePackageType(input.PackageType, ['Thunder', 'Accelerator']);
  const tags = checkTagSet(input.TagSet, TAG_CODES);
  const regions = input.AccessRegionSet ?? [];
  const seen = new Set<string>();
  regions.forEach((a, i) => {
    checkAccessRegion(a.AccessRegion, input.RealServerRegion, `AccessRegionSet.${i}.AccessRegion`, false);
    if (seen.has(a.AccessRegion)) {
      throw new ApiError('FailedOperation.LimitNumofProxiesInGroup', `A proxy group has at most one proxy per access region; \`${a.AccessRegion}\` is given twice.`);
    }
    seen.add(a.AccessRegion);
    checkBandwidth(a.Bandwidth, false);
    checkConcurrent(a.Concurrent, false);
    normalizeNetworkType(a.NetworkType, ['normal', 'cn2']);
  });
  const id = resourceId('lg');
  const dest = findRegion(input.RealServerRegion)!;
  const data: GroupData = {
    CreateTime: unixSeconds(ctx.now),
    ProjectId: input.ProjectId,
    ProxyNum: 0,
    Status: GROUP_STATUS_CODE.CREATING,
    OwnerUin: ctx.account.uin,
    CreateUin: ctx.account.uin,
    GroupName: input.GroupName,
    DnsDefaultIp: '',
    Domain: null,
    RealServerRegionInfo: regionDetail(dest),
    IsOldGroup: false,
    GroupId: id,
    TagSet: tags,
    PolicyId: '',
    Version: '3.0',
    ClientIPMethod: [0, 1],
    IPAddressVersion: ipVersion,
    PackageType: packageType,
    Http3Supported: ipVersion === 'IPv4' ? 1 : 0,
    FeatureBitmap: dest.FeatureBitmap,
    IsSupportTLSChoice: 1,
    RealServerRegion: input.RealServerRegion,
  };
  const rec: ResourceRecord<GroupData> = { kind: KIND.group, id, parent: null, status: 'CREATING', createdAt: ctx.now, data };
  await ctx.tx.put(rec);
  const ids: string[] = [];
  for (const a of regions) {
    ids.push(await insertProxy(ctx, {
      ProjectId: input.ProjectId,
      ProxyName: `${input.GroupName}-${a.AccessRegion}`.slice(0, 32),
      AccessRegion: a.AccessRegion,
      RealServerRegion: input.RealServerRegion,
      Bandwidth: a.Bandwidth,
      Concurrent: a.Concurrent,
      GroupId: id,
      TagSet: tags,
      BillingType: 0,
      IPAddressVersion: ipVersion,
      NetworkType: a.NetworkType || 'normal',
      PackageType: packageType,
      Status: PROXY.CREATING,
    }));
  }
  if (ids.length === 0) {
    // Nothing to build: an empty group is usable at once (Terraform modifies or deletes it without waiting).
    await groupLife.move(ctx.tx, rec, 'RUNNING');
    return { GroupId: id };
  }
  await groupLife.begin(ctx, rec, 'CREATING', T.created, { groupId: id, ids }, { ProxyNum: ids.length });
  return { GroupId: id };
};

const DescribeProxyGroupList: HandlerOf<GaapActions, 'DescribeProxyGroupList'> = async (input: DescribeProxyGroupListRequest, ctx) => {
  const { offset, limit } = paging(input, { maxLimit: 100 });
  const where = checkFilters(input.Filters, ['RealServerRegion', 'PackageType'], 10);
  if (input.ProjectId < -1) throw invalidParameterValue('ProjectId', 'expected -1 (all projects) or a project ID');
  if (input.ProjectId !== -1) where.push({ field: 'ProjectId', values: [input.ProjectId] });
  const tags = checkTagFilter(input.TagSet);
  const { total, items } = await listPage<GroupData>(ctx.tx, KIND.group, { where, descending: true, offset, limit }, tags);
  return { TotalCount: total, ProxyGroupList: items.map(infoOf) };
};

const DescribeProxyGroupDetails: HandlerOf<GaapActions, 'DescribeProxyGroupDetails'> = async (input: DescribeProxyGroupDetailsRequest, ctx) => {
  const g = await getGroup(ctx.tx, input.GroupId);
  const { total } = await ctx.tx.list(KIND.proxy, { parent: g.id, limit: 0 });
  return { ProxyGroupDetail: detailOf(g, total) };
};

const ModifyProxyGroupAttribute: HandlerOf<GaapActions, 'ModifyProxyGroupAttribute'> = async (input: ModifyProxyGroupAttributeRequest, ctx) => {
  const g = await getGroup(ctx.tx, input.GroupId);
  if (input.GroupName !== undefined) checkGroupName(input.GroupName);
  if (input.ProjectId !== undefined) checkProjectId(input.ProjectId);
  if (g.status === 'DESTROYING') throw new ApiError('FailedOperation', `The proxy group \`${g.id}\` is being deleted.`);
  await ctx.tx.put({
    ...g,
    data: { ...g.data, ...(input.GroupName !== undefined ? { GroupName: input.GroupName } : {}), ...(input.ProjectId !== undefined ? { ProjectId: input.ProjectId } : {}) },
  });
  return {};
};

function assertGroupSettled(g: ResourceRecord<GroupData>): void {
  groupLife.assertIdle(g, 'FailedOperation', `The proxy group \`${g.id}\` is ${g.status}; wait until its current operation completes.`);
}

const OpenProxyGroup: HandlerOf<GaapActions, 'OpenProxyGroup'> = async (input: OpenProxyGroupRequest, ctx) => {
  const g = await getGroup(ctx.tx, input.GroupId);
  assertGroupSettled(g);
  return switchProxies(ctx, await proxiesOfGroup(ctx.tx, g.id), PROXY.CLOSED, PROXY.OPENING, T.opened);
};

const CloseProxyGroup: HandlerOf<GaapActions, 'CloseProxyGroup'> = async (input: CloseProxyGroupRequest, ctx) => {
  const g = await getGroup(ctx.tx, input.GroupId);
  assertGroupSettled(g);
  return switchProxies(ctx, await proxiesOfGroup(ctx.tx, g.id), PROXY.RUNNING, PROXY.CLOSING, T.closed);
};

const DeleteProxyGroup: HandlerOf<GaapActions, 'DeleteProxyGroup'> = async (input: DeleteProxyGroupRequest, ctx) => {
  const force = input.Force ?? 0;
  if (force !== 0 && force !== 1) throw invalidParameterValue('Force', 'expected 0 or 1');
  const g = await getGroup(ctx.tx, input.GroupId);
  if (g.status !== 'RUNNING' && g.status !== 'CLOSED') {
    throw new ApiError('FailedOperation.GroupStatusNotInRuning', `The proxy group \`${g.id}\` is ${g.status}; it can be deleted once it is running or closed.`);
  }
  const proxies = await proxiesOfGroup(ctx.tx, g.id);
  if (force === 0) {
    if (proxies.length > 0) {
      throw new ApiError('FailedOperation.DeleteProxyGroupProxyRemained', `The proxy group \`${g.id}\` still contains ${proxies.length} proxies; destroy them first or set \`Force\` to 1.`);
    }
    if (await ownerHasBoundRealServers(ctx.tx, g.id, 'GroupId')) {
      throw new ApiError('FailedOperation.RealServerAlreadyBound', `A listener of the proxy group \`${g.id}\` has real servers bound; unbind them or set \`Force\` to 1.`);
    }
  }
  const busy = proxies.find((p) => proxyLife.isBusy(p));
  if (busy) throw new ApiError('FailedOperation.GroupStatusNotInRuning', `The proxy \`${busy.id}\` of the group is ${busy.status}; wait until its operation completes.`);
  for (const p of proxies) await proxyLife.move(ctx.tx, p, PROXY.DESTROYING);
  await groupLife.begin(ctx, g, 'DESTROYING', T.deleted, { groupId: g.id });
  return {};
};

const CreateProxyGroupDomain: HandlerOf<GaapActions, 'CreateProxyGroupDomain'> = async (input: CreateProxyGroupDomainRequest, ctx) => {
  const g = await getGroup(ctx.tx, input.GroupId);
  assertGroupSettled(g);
  if (!g.data.Domain) await ctx.tx.put({ ...g, data: { ...g.data, Domain: `${g.id}.gaapqcloud.com.cn` } });
  return { GroupId: g.id };
};

const DescribeGroupDomainConfig: HandlerOf<GaapActions, 'DescribeGroupDomainConfig'> = async (input: DescribeGroupDomainConfigRequest, ctx) => {
  const g = await getGroup(ctx.tx, input.GroupId);
  const conf = (await ctx.tx.kvGet<Record<string, string[]>>(DOMAIN_CONF_NS, g.id)) ?? {};
  const byRegion = new Map<string, string[]>();
  for (const p of await proxiesOfGroup(ctx.tx, g.id)) {
    const list = byRegion.get(p.data.AccessRegion) ?? [];
    list.push(p.id);
    byRegion.set(p.data.AccessRegion, list);
  }
  const AccessRegionList = [...byRegion.entries()].map(([regionId, proxyIds]) => {
    const maps = (conf[regionId] ?? []).map((code): Pick<CountryAreaMap, 'NationCountryName' | 'NationCountryInnerCode'> & Partial<CountryAreaMap> => countryAreaMap(code, ctx.language) ?? { NationCountryName: code, NationCountryInnerCode: code });
    return {
      NationCountryInnerList: maps.map((m) => ({ NationCountryName: m.NationCountryName, NationCountryInnerCode: m.NationCountryInnerCode })),
      ProxyList: proxyIds.map((ProxyId) => ({ ProxyId })),
      RegionId: regionId,
      // Zone and continent of the first configured nation code; empty while none is configured.
      GeographicalZoneInnerCode: maps[0]?.GeographicalZoneInnerCode ?? '',
      ContinentInnerCode: maps[0]?.ContinentInnerCode ?? '',
      RegionName: findRegion(regionId)?.RegionName ?? regionId,
    };
  });
  return { AccessRegionList, DefaultDnsIp: (g.data.DnsDefaultIp as string) ?? '', GroupId: g.id, AccessRegionCount: AccessRegionList.length };
};

const ModifyGroupDomainConfig: HandlerOf<GaapActions, 'ModifyGroupDomainConfig'> = async (input: ModifyGroupDomainConfigRequest, ctx) => {
  const g = await getGroup(ctx.tx, input.GroupId);
  if (!isIP(input.DefaultDnsIp)) throw invalidParameterValue('DefaultDnsIp', `\`${input.DefaultDnsIp}\` is not an IP address`);
  const regions = new Set((await proxiesOfGroup(ctx.tx, g.id)).map((p) => p.data.AccessRegion as string));
  const conf: Record<string, string[]> = {};
  (input.AccessRegionList ?? []).forEach((a, i) => {
    if (!regions.has(a.RegionId)) throw invalidParameterValue(`AccessRegionList.${i}.RegionId`, `the group \`${g.id}\` has no proxy in \`${a.RegionId}\``);
    const codes = a.NationCountryInnerList ?? [];
    for (const c of codes) if (!isCountryCode(c)) throw invalidParameterValue(`AccessRegionList.${i}.NationCountryInnerList`, `\`${c}\` is not a code listed by DescribeCountryAreaMapping`);
    conf[a.RegionId] = codes;
  });
  await ctx.tx.kvPut(DOMAIN_CONF_NS, g.id, conf);
  await ctx.tx.put({ ...g, data: { ...g.data, DnsDefaultIp: input.DefaultDnsIp } });
  return {};
};

export const handlers = {
  CreateProxyGroup,
  DescribeProxyGroupList,
  DescribeProxyGroupDetails,
  ModifyProxyGroupAttribute,
  OpenProxyGroup,
  CloseProxyGroup,
  DeleteProxyGroup,
  CreateProxyGroupDomain,
  DescribeGroupDomainConfig,
  ModifyGroupDomainConfig,
} satisfies HandlerPart<GaapActions>;

export const transitions: Record<string, TransitionHandler> = {
  [T.created]: async (p: { groupId: string; ids: string[] }, tx) => completeCreation(tx, p.ids, p.groupId),
  [T.opened]: async (p: { ids: string[] }, tx) => finishSwitch(tx, p.ids, PROXY.OPENING, PROXY.RUNNING),
  [T.closed]: async (p: { ids: string[] }, tx) => finishSwitch(tx, p.ids, PROXY.CLOSING, PROXY.CLOSED),
  [T.deleted]: async (p: { groupId: string }, tx) => {
    const g = await tx.get(KIND.group, p.groupId);
    if (!g || g.status !== 'DESTROYING') return;
    for (const proxy of await proxiesOfGroup(tx, p.groupId)) await removeProxy(tx, proxy.id);
    await removeListenersOf(tx, p.groupId, 'GroupId');
    await removePolicyOf(tx, p.groupId);
    await tx.kvDelete(DOMAIN_CONF_NS, p.groupId);
    await tx.delete(KIND.group, p.groupId);
    await clearCounters(tx, 'group', p.groupId);
  },
};

export function prepare(store: Store): void {
  store.ensureFieldIndex(KIND.group, 'ProjectId');
  store.ensureFieldIndex(KIND.group, 'RealServerRegion');
  store.ensureFieldIndex(KIND.group, 'PackageType');
}
