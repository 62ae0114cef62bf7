import { ApiError, invalidParameterValue } from '../../../core/errors';
import { resourceId } from '../../../core/ids';
import type { Filter, ProxyInfo } from '../../../spec/gaap.types';
import type { FieldFilter, StoreTx } from '../../../store/types';
import type { ActionContext } from '../../types';
import { KIND, unixSeconds } from '../kinds';
import { PROXY, forwardIps, proxyAddress, proxyLife, refreshGroupStatus, type ProxyData } from './model';
import { BANDWIDTH_LIST, CONCURRENT_LIST, findRegion, isAccessRegion, isDestRegion, regionDetail } from '../catalogue/model';
import { groupLife, type GroupData } from '../group/model';

/** Validation of proxy settings and construction of ProxyInfo records. */

export const IP_VERSIONS = ['IPv4', 'IPv6'];
export const PACKAGE_TYPES = ['Thunder', 'Accelerator', 'CrossBorder'];

export function normalizeIpVersion(v: string | undefined): string {
  if (v === undefined || v === '') return 'IPv4';
  const hit = IP_VERSIONS.find((x) => x.toLowerCase() === v.toLowerCase());
  if (!hit) throw invalidParameterValue('IPAddressVersion', 'expected IPv4 or IPv6');
  return hit;
}

export function normalizePackageType(v: string | undefined, allowed = PACKAGE_TYPES): string {
  if (v === undefined || v === '') return 'Thunder';
  const hit = allowed.find((x) => x.toLowerCase() === v.toLowerCase());
  if (!hit) throw invalidParameterValue('PackageType', `expected one of ${allowed.join(', ')}`);
  return hit;
}

export function normalizeNetworkType(v: string | undefined, allowed = ['normal', 'cn2', 'triple']): string {
  if (v === undefined || v === '') return 'normal';
  if (!allowed.includes(v)) throw invalidParameterValue('NetworkType', `expected one of ${allowed.join(', ')}`);
  return v;
}

export function checkBillingType(v: number | undefined): number {
  if (v === undefined) return 0;
  if (v !== 0 && v !== 1) throw invalidParameterValue('BillingType', 'expected 0 (bandwidth) or 1 (traffic)');
  return v;
}

/**
 * `specific`: answer the dedicated InvalidParameterValue.* code; actions whose
 * documented error list lacks it answer plain InvalidParameterValue.
 */
export function checkBandwidth(v: number, specific = true): void {
  if (!BANDWIDTH_LIST.includes(v)) {
    throw new ApiError(specific ? 'InvalidParameterValue.InvalidBandwidth' : 'InvalidParameterValue', `The value of parameter \`Bandwidth\` is not valid: ${v} is not one of ${BANDWIDTH_LIST.join(', ')} Mbps.`);
  }
}

export function checkConcurrent(v: number, specific = true): void {
  if (!CONCURRENT_LIST.includes(v)) {
    throw new ApiError(specific ? 'InvalidParameterValue.InvalidConcurrency' : 'InvalidParameterValue', `The value of parameter \`Concurrent\` is not valid: ${v} is not one of ${CONCURRENT_LIST.join(', ')} (×10,000 connections).`);
  }
}

export function checkDestRegion(dest: string, name = 'RealServerRegion', specific = true): void {
  if (!isDestRegion(dest)) throw new ApiError(specific ? 'InvalidParameterValue.UnknownDestRegion' : 'InvalidParameterValue', `The value of parameter \`${name}\` is not valid: unknown region \`${dest}\`.`);
}

/** Access region known and different from `dest`, as DescribeAccessRegionsByDestRegion offers them. */
export function checkAccessRegion(access: string, dest: string, name = 'AccessRegion', specific = true): void {
  const code = specific ? 'InvalidParameterValue.UnknownAccessRegion' : 'InvalidParameterValue';
  if (!isAccessRegion(access)) throw new ApiError(code, `The value of parameter \`${name}\` is not valid: unknown access region \`${access}\`.`);
  if (access === dest) {
    throw new ApiError(code, `The value of parameter \`${name}\` is not valid: the access region \`${access}\` is the real-server region itself.`);
  }
}

export function checkProxyName(v: string): void {
  if (v.trim() === '' || [...v].length > 32) throw invalidParameterValue('ProxyName', 'expected 1 to 32 characters');
}

/** What a new proxy is built from: ProxyInfo fields given by the caller, plus its group (null for none). */
export interface NewProxy
  extends Pick<
    ProxyInfo,
    'ProjectId' | 'ProxyName' | 'AccessRegion' | 'RealServerRegion' | 'Bandwidth' | 'Concurrent' | 'TagSet' | 'BillingType' | 'IPAddressVersion' | 'NetworkType' | 'PackageType' | 'Status'
  > {
  GroupId: string | null;
}

/** Builds and stores a new proxy (ProxyInfo) with its tag index entries; refreshes its group. */
export async function insertProxy(ctx: ActionContext, p: NewProxy): Promise<string> {
  const id = resourceId('link');
  const n = await ctx.tx.nextSequence('gaap.proxyAddress');
  const ipv6 = p.IPAddressVersion === 'IPv6';
  const ip = await proxyAddress(ctx.tx, ctx.settings.dataplanePool, ipv6);
  const access = findRegion(p.AccessRegion)!;
  const dest = findRegion(p.RealServerRegion)!;
  const data: ProxyData = {
    InstanceId: id,
    CreateTime: unixSeconds(ctx.now) - ctx.settings.gaapCreateTimeBackdate,
    ProjectId: p.ProjectId,
    ProxyName: p.ProxyName,
    AccessRegion: p.AccessRegion,
    RealServerRegion: p.RealServerRegion,
    Bandwidth: p.Bandwidth,
    Concurrent: p.Concurrent,
    Status: p.Status,
    Domain: `${id}.gaapqcloud.com.cn`,
    IP: ip,
    Version: '3.0',
    ProxyId: id,
    Scalarable: 1,
    SupportProtocols: ['TCP', 'UDP', 'HTTP', 'HTTPS'],
    GroupId: p.GroupId,
    PolicyId: null,
    AccessRegionInfo: regionDetail(access),
    RealServerRegionInfo: regionDetail(dest),
    ForwardIP: forwardIps(n),
    TagSet: p.TagSet,
    SupportSecurity: 1,
    BillingType: p.BillingType,
    RelatedGlobalDomains: [],
    ModifyConfigTime: null,
    ProxyType: 100,
    ClientIPMethod: [0, 1],
    IPAddressVersion: p.IPAddressVersion,
    NetworkType: p.NetworkType,
    PackageType: p.PackageType,
    BanStatus: 'RECOVER',
    IPList: [{ IP: ip, Provider: p.NetworkType === 'triple' ? 'CMCC' : 'BGP', Bandwidth: p.Bandwidth }],
    Http3Supported: ipv6 ? 0 : 1,
    InBanBlacklist: 0,
    FeatureBitmap: access.FeatureBitmap,
    IsAutoScaleProxy: 0,
    IsSupportTLSChoice: 1,
  };
  await ctx.tx.put({ kind: KIND.proxy, id, parent: p.GroupId, status: p.Status, createdAt: ctx.now, data });
  await refreshGroupStatus(ctx.tx, p.GroupId);
  return id;
}

/** Moves the listed proxies (and group) from a creating status to RUNNING. */
export async function completeCreation(tx: StoreTx, ids: string[], groupId?: string): Promise<void> {
  if (groupId) {
    const g = await tx.get<GroupData>(KIND.group, groupId);
    if (g && g.status === 'CREATING') await groupLife.move(tx, g, 'RUNNING');
  }
  const groups = new Set<string>();
  for (const id of ids) {
    const rec = await tx.get<ProxyData>(KIND.proxy, id);
    if (!rec || (rec.status !== PROXY.CREATING && rec.status !== PROXY.CLONING)) continue;
    await proxyLife.move(tx, rec, PROXY.RUNNING);
    if (rec.parent) groups.add(rec.parent);
  }
  if (groupId) groups.add(groupId);
  for (const g of groups) await refreshGroupStatus(tx, g);
}

function filterValues(name: string, values: string[]): Array<string | number> {
  if (name === 'ProjectId') {
    return values.map((v) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isInteger(n)) throw invalidParameterValue('Filters.Values', `\`${v}\` is not a project ID`);
      return n;
    });
  }
  if (name === 'IPAddressVersion') return values.map((v) => IP_VERSIONS.find((x) => x.toLowerCase() === v.toLowerCase()) ?? v);
  if (name === 'PackageType') return values.map((v) => PACKAGE_TYPES.find((x) => x.toLowerCase() === v.toLowerCase()) ?? v);
  return values;
}

export function checkFilters(filters: Filter[] | undefined, names: string[], maxFilters: number): FieldFilter[] {
  const where: FieldFilter[] = [];
  if (!filters) return where;
  if (filters.length > maxFilters) throw invalidParameterValue('Filters', `at most ${maxFilters} filters may be given`);
  for (const f of filters) {
    if (!names.includes(f.Name)) throw invalidParameterValue('Filters.Name', `\`${f.Name}\` is not one of ${names.join(', ')}`);
    if (!f.Values || f.Values.length === 0) throw invalidParameterValue('Filters.Values', `filter \`${f.Name}\` needs at least one value`);
    if (f.Values.length > 5) throw invalidParameterValue('Filters.Values', `filter \`${f.Name}\` takes at most 5 values`);
    where.push({ field: f.Name, values: filterValues(f.Name, f.Values) });
  }
  return where;
}
