/**
 * Global ("unified") domains and their DNS records: stored shapes, checks
 * and the views the Describe actions return.
 *
 * A domain record's data is the documented `Domain` structure except
 * ProxyCount, which is counted from the live DNS records on every read.
 * A DNS record keeps its inputs (countries, proxies) and is rendered as
 * `GlobalDns` on read: country names follow the caller's language and the
 * access points follow the proxies' current addresses.
 */
import { isIP } from 'node:net';
import { ApiError, invalidParameterValue } from '../../../core/errors';
import type { Domain, GlobalDns, ModifyGlobalDomainDnsRequest } from '../../../spec/gaap.types';
import type { ResourceRecord, StoreTx } from '../../../store/types';
import type { Language } from '../../types';
import { recordArea } from '../catalogue/model';
import { lifecycle } from '../../kit/lifecycle';
import { KIND } from '../kinds';
import { findRegion } from '../catalogue/model';

/** Domain.Status */
export const DOMAIN_STATUS = { open: 0, closed: 1, closing: 2, opening: 3 } as const;
/** GlobalDns.Status */
export const DNS_STATUS = { running: 1, creating: 2, modifying: 3, deleting: 4 } as const;

/** A domain's statuses: closing and opening are on their way (a scheduled transition settles them). */
export const domainLife = lifecycle<number, GlobalDomainData>({
  noun: 'global domain',
  statuses: Object.values(DOMAIN_STATUS),
  busy: [DOMAIN_STATUS.closing, DOMAIN_STATUS.opening],
  read: (rec) => rec.data.Status,
  write: (data, status) => ({ ...data, Status: status }),
});

/** A DNS record's statuses: all but running are on their way. */
export const dnsLife = lifecycle<number, DnsData>({
  noun: 'DNS record',
  statuses: Object.values(DNS_STATUS),
  busy: [DNS_STATUS.creating, DNS_STATUS.modifying, DNS_STATUS.deleting],
  read: (rec) => rec.data.Status,
  write: (data, status) => ({ ...data, Status: status }),
});

/** Global domains per account (LimitExceeded.Domain); the document gives no number. */
export const MAX_DOMAINS = 100;

/** A global-domain record: the API's Domain without ProxyCount (counted when read); UpdateTime null until first changed. */
export interface GlobalDomainData extends Omit<Domain, 'ProxyCount' | 'UpdateTime'> {
  UpdateTime: number | null;
}

/** A DNS record as stored: what ModifyGlobalDomainDns sets (country codes, proxy IDs), which GlobalDns shows expanded (dnsView). */
export interface DnsData extends ModifyGlobalDomainDnsRequest {
  Status: number;
}

export const dnsKey = (id: number): string => String(id);

export const domainNotFound = (id: string) => new ApiError('FailedOperation', `The global domain \`${id}\` does not exist.`);
export const dnsNotFound = (id: number) => new ApiError('FailedOperation', `The DNS record \`${id}\` does not exist.`);

const DOMAIN_NAME_RE = /^(?=.{1,253}$)([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}\.?$/;

/** DefaultValue is an IP address (Type "IP") or a domain name (Type "CNAME"). */
export function checkDefaultValue(v: string): { value: string; type: string } {
  const value = v.trim();
  if (isIP(value)) return { value, type: 'IP' };
  if (DOMAIN_NAME_RE.test(value)) return { value, type: 'CNAME' };
  throw invalidParameterValue('DefaultValue', `\`${v}\` is neither an IP address nor a domain name`);
}

export async function getGlobalDomain(tx: StoreTx, id: string): Promise<ResourceRecord<GlobalDomainData>> {
  const rec = await tx.get<GlobalDomainData>(KIND.globalDomain, id);
  if (!rec) throw domainNotFound(id);
  return rec;
}

export async function dnsRecordsOf(tx: StoreTx, domainId: string): Promise<ResourceRecord<DnsData>[]> {
  const { items } = await tx.list<DnsData>(KIND.dnsRecord, { parent: domainId });
  return items.sort((a, b) => a.data.DnsRecordId - b.data.DnsRecordId);
}

/**
 * Countries: trimmed, deduplicated, numeric codes. The document's own
 * examples use codes the mapping lists only as continents ("100000") or not
 * at all ("1000000"), so any numeric code is taken (see recordArea).
 */
export function checkCountries(codes: string[]): string[] {
  const out = [...new Set(codes.map((c) => c.trim()))];
  if (out.length === 0) throw invalidParameterValue('NationCountryInnerCodes', 'at least one country or area code is required');
  for (const c of out) {
    if (!/^\d{1,12}$/.test(c)) throw invalidParameterValue('NationCountryInnerCodes', `\`${c}\` is not a numeric country or area code (see DescribeCountryAreaMapping)`);
  }
  return out;
}

/** Proxies: trimmed, deduplicated, existing in the account, not banned. */
export async function checkProxies(tx: StoreTx, ids: string[]): Promise<string[]> {
  const out = [...new Set(ids.map((c) => c.trim()))];
  if (out.length === 0) throw invalidParameterValue('ProxyIdList', 'at least one proxy is required');
  for (const id of out) {
    const p = await tx.get(KIND.proxy, id);
    if (!p) throw new ApiError('ResourceNotFound', `The proxy \`${id}\` in \`ProxyIdList\` does not exist.`);
    const d = (p.data ?? {}) as Record<string, unknown>;
    if (d.InBanBlacklist === 1 || d.BanStatus === 'BANNED') {
      throw new ApiError('InvalidParameterValue.HitBanBlacklist', `The proxy \`${id}\` in \`ProxyIdList\` is banned and cannot be resolved to.`);
    }
  }
  return out;
}

/** A country is resolved by at most one record of a domain. */
export function checkCountryConflicts(codes: string[], others: ResourceRecord<DnsData>[]): void {
  for (const o of others) {
    const clash = codes.find((c) => o.data.NationCountryInnerCodes.includes(c));
    if (clash) {
      throw invalidParameterValue('NationCountryInnerCodes', `the code \`${clash}\` is already resolved by DNS record ${o.data.DnsRecordId} of this domain`);
    }
  }
}

/** Domain as DescribeGlobalDomains returns it. */
export async function domainView(tx: StoreTx, rec: ResourceRecord<GlobalDomainData>): Promise<Domain> {
  const proxies = new Set<string>();
  for (const r of await dnsRecordsOf(tx, rec.id)) for (const p of r.data.ProxyIdList) proxies.add(p);
  let count = 0;
  for (const p of proxies) if (await tx.get(KIND.proxy, p)) count++;
  const d = rec.data;
  return {
    DomainId: d.DomainId, FullDomain: d.FullDomain, Alias: d.Alias, Type: d.Type, Status: d.Status, ProjectId: d.ProjectId,
    DefaultValue: d.DefaultValue, ProxyCount: count, CreateTime: d.CreateTime, UpdateTime: d.UpdateTime, TagSet: d.TagSet, BanStatus: d.BanStatus,
  };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** GlobalDns as DescribeGlobalDomainDns returns it; proxies destroyed since are left out of AccessList. */
export async function dnsView(tx: StoreTx, rec: ResourceRecord<DnsData>, language: Language): Promise<GlobalDns> {
  const access = [];
  for (const id of rec.data.ProxyIdList) {
    const p = await tx.get(KIND.proxy, id);
    if (!p) continue;
    const d = (p.data ?? {}) as Record<string, unknown>;
    const region = findRegion(str(d.AccessRegion));
    const vips = Array.isArray(d.IPList) ? (d.IPList as Array<Record<string, unknown>>) : [];
    access.push({
      RegionId: str(d.AccessRegion),
      RegionName: region?.RegionName ?? str(d.AccessRegion),
      ProxyId: id,
      Vip: str(d.IP),
      VipList: vips.map((v) => ({ IP: str(v.IP), Provider: str(v.Provider) || 'BGP', Bandwidth: typeof v.Bandwidth === 'number' ? v.Bandwidth : 0 })),
      SourceRegionIdcType: region?.IDCType ?? 'dc',
    });
  }
  return {
    DnsRecordId: rec.data.DnsRecordId,
    CountryAreaList: rec.data.NationCountryInnerCodes.map((c) => recordArea(c, language)),
    AccessList: access,
    Status: rec.data.Status,
  };
}
