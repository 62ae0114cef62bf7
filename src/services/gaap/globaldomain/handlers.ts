/**
 * Global ("unified") domains and their DNS records (countries → proxies).
 *
 * Domain.Status: 0 open, 1 closed, 2 closing, 3 opening. A new domain is
 * open; DisableGlobalDomain goes 0 → 2 → 1 and EnableGlobalDomain 1 → 3 → 0
 * through a scheduled transition. A domain must be closed to be deleted
 * (its DNS records go with it).
 *
 * GlobalDns.Status: 1 running, 2 creating, 3 modifying. Records get an
 * integer DnsRecordId that CreateGlobalDomainDns does not return; a deleted
 * record is gone when DeleteGlobalDomainDns answers (4, deleting, is never
 * shown).
 */
import { ApiError, invalidParameterValue } from '../../../core/errors';
import { resourceId } from '../../../core/ids';
import type { CreateGlobalDomainDnsRequest, CreateGlobalDomainRequest, DeleteGlobalDomainDnsRequest, DeleteGlobalDomainRequest, DescribeGlobalDomainDnsRequest, DescribeGlobalDomainsRequest, DisableGlobalDomainRequest, EnableGlobalDomainRequest, GaapActions, ModifyGlobalDomainAttributeRequest, ModifyGlobalDomainDnsRequest } from '../../../spec/gaap.types';
import type { Store, StoreTx } from '../../../store/types';
import type { ActionContext, HandlerPart, TransitionHandler } from '../../types';
import {
  checkCountries,
  checkCountryConflicts,
  checkDefaultValue,
  checkProxies,
  DNS_STATUS,
  dnsKey,
  dnsLife,
  dnsNotFound,
  dnsRecordsOf,
  dnsView,
  DOMAIN_STATUS,
  domainLife,
  domainView,
  getGlobalDomain,
  MAX_DOMAINS,
  type DnsData,
  type GlobalDomainData,
} from './model';
import { paging } from '../../kit/paging';
import { checkTagFilter, checkTagSet, hasAnyTag } from '../../kit/tags';
import { KIND, checkProjectId, unixSeconds } from '../kinds';

/** Filter names of DescribeGlobalDomains (the document names none; these are Domain fields). */
/** Scheduled transitions of global domains and their DNS records. */
const T = { domainSettled: 'globalDomain.settled', dnsSettled: 'globalDns.settled' } as const;

const FILTER_FIELDS: Record<string, keyof GlobalDomainData> = {
  DomainId: 'DomainId',
  FullDomain: 'FullDomain',
  Alias: 'Alias',
  DefaultValue: 'DefaultValue',
  Type: 'Type',
  Status: 'Status',
  BanStatus: 'BanStatus',
};

async function setDomainStatus(ctx: ActionContext, id: string, from: number, target: number, via: number): Promise<void> {
  const rec = await getGlobalDomain(ctx.tx, id);
  const s = rec.data.Status;
  // Already there, or on the way: nothing to do.
  if (s === target || s === via) return;
  if (s !== from) {
    const what = target === DOMAIN_STATUS.open ? 'enabled' : 'disabled';
    throw new ApiError('FailedOperation', `The global domain \`${id}\` cannot be ${what} while its status is ${s}.`);
  }
  await domainLife.begin(ctx, rec, via, T.domainSettled, { domainId: id, from: via, to: target }, { UpdateTime: unixSeconds(ctx.now) });
}

async function getDns(tx: StoreTx, id: number) {
  const rec = await tx.get<DnsData>(KIND.dnsRecord, dnsKey(id));
  if (!rec) throw dnsNotFound(id);
  return rec;
}

function requireDnsRunning(rec: { data: DnsData }, doing: string): void {
  if (rec.data.Status !== DNS_STATUS.running) {
    throw new ApiError('FailedOperation', `The DNS record \`${rec.data.DnsRecordId}\` cannot be ${doing} while its status is ${rec.data.Status}.`);
  }
}

export const handlers = {
  CreateGlobalDomain: async (input: CreateGlobalDomainRequest, ctx) => {
    const projectId = checkProjectId(input.ProjectId);
    const { value, type } = checkDefaultValue(input.DefaultValue);
    const tags = checkTagSet(input.TagSet, { invalid: 'InvalidParameterValue', quota: 'LimitExceeded.TagQuota' });
    const { total } = await ctx.tx.list(KIND.globalDomain, { limit: 0 });
    if (total >= MAX_DOMAINS) throw new ApiError('LimitExceeded.Domain', `The account already has ${total} global domains; at most ${MAX_DOMAINS} are allowed.`);
    const id = resourceId('dm');
    const now = unixSeconds(ctx.now);
    const data: GlobalDomainData = {
      DomainId: id,
      FullDomain: `${resourceId('gd')}.gaapqcloud.com.cn`,
      Alias: input.Alias ?? '',
      Type: type,
      Status: DOMAIN_STATUS.open,
      ProjectId: projectId,
      DefaultValue: value,
      CreateTime: now,
      UpdateTime: now,
      TagSet: tags,
      BanStatus: 'RECOVER',
    };
    await ctx.tx.put({ kind: KIND.globalDomain, id, parent: null, status: String(data.Status), createdAt: ctx.now, data });
    return { DomainId: id };
  },

  DescribeGlobalDomains: async (input: DescribeGlobalDomainsRequest, ctx) => {
    const { offset, limit } = paging(input);
    const tags = checkTagFilter(input.TagSet, { emptyKeyCode: 'InvalidParameterValue.InvalidTags' });
    const filters = input.Filters ?? [];
    for (const f of filters) {
      if (!(f.Name in FILTER_FIELDS)) throw invalidParameterValue('Filters.Name', `\`${f.Name}\` is not one of ${Object.keys(FILTER_FIELDS).join(', ')}`);
    }
    const { items } = await ctx.tx.list<GlobalDomainData>(KIND.globalDomain, { descending: true });
    const matched = items.filter((r) => {
      const d = r.data;
      if (input.ProjectId !== -1 && d.ProjectId !== input.ProjectId) return false;
      for (const f of filters) {
        const v = String(d[FILTER_FIELDS[f.Name]]);
        if (!f.Values.some((x) => x.trim() === v)) return false;
      }
      if (tags && !hasAnyTag(d, tags)) return false;
      return true;
    });
    const domains = [];
    for (const r of matched.slice(offset, offset + limit)) domains.push(await domainView(ctx.tx, r));
    return { Domains: domains, TotalCount: matched.length };
  },

  ModifyGlobalDomainAttribute: async (input: ModifyGlobalDomainAttributeRequest, ctx) => {
    const rec = await getGlobalDomain(ctx.tx, input.DomainId);
    const projectId = checkProjectId(input.ProjectId);
    const data = { ...rec.data, ProjectId: projectId, UpdateTime: unixSeconds(ctx.now) };
    if (input.Alias !== undefined) data.Alias = input.Alias;
    if (input.DefaultValue !== undefined) {
      const { value, type } = checkDefaultValue(input.DefaultValue);
      data.DefaultValue = value;
      data.Type = type;
    }
    await ctx.tx.put({ ...rec, data });
    return {};
  },

  EnableGlobalDomain: async (input: EnableGlobalDomainRequest, ctx) => {
    await setDomainStatus(ctx, input.DomainId, DOMAIN_STATUS.closed, DOMAIN_STATUS.open, DOMAIN_STATUS.opening);
    return {};
  },

  DisableGlobalDomain: async (input: DisableGlobalDomainRequest, ctx) => {
    await setDomainStatus(ctx, input.DomainId, DOMAIN_STATUS.open, DOMAIN_STATUS.closed, DOMAIN_STATUS.closing);
    return {};
  },

  DeleteGlobalDomain: async (input: DeleteGlobalDomainRequest, ctx) => {
    const rec = await getGlobalDomain(ctx.tx, input.DomainId);
    if (rec.data.Status !== DOMAIN_STATUS.closed) {
      throw new ApiError('FailedOperation', `The global domain \`${input.DomainId}\` must be disabled (status 1) before it is deleted; its status is ${rec.data.Status}.`);
    }
    for (const r of await dnsRecordsOf(ctx.tx, input.DomainId)) await ctx.tx.delete(KIND.dnsRecord, r.id);
    await ctx.tx.delete(KIND.globalDomain, input.DomainId);
    return {};
  },

  CreateGlobalDomainDns: async (input: CreateGlobalDomainDnsRequest, ctx) => {
    await getGlobalDomain(ctx.tx, input.DomainId);
    const proxies = await checkProxies(ctx.tx, input.ProxyIdList);
    const countries = checkCountries(input.NationCountryInnerCodes);
    checkCountryConflicts(countries, await dnsRecordsOf(ctx.tx, input.DomainId));
    const id = await ctx.tx.nextSequence(KIND.dnsRecord);
    const data: DnsData = { DnsRecordId: id, DomainId: input.DomainId, NationCountryInnerCodes: countries, ProxyIdList: proxies, Status: DNS_STATUS.creating };
    await ctx.tx.put({ kind: KIND.dnsRecord, id: dnsKey(id), parent: input.DomainId, status: String(data.Status), createdAt: ctx.now, data });
    await ctx.later(T.dnsSettled, { dnsRecordId: id, from: DNS_STATUS.creating });
    return {};
  },

  DescribeGlobalDomainDns: async (input: DescribeGlobalDomainDnsRequest, ctx) => {
    await getGlobalDomain(ctx.tx, input.DomainId);
    const list = [];
    for (const r of await dnsRecordsOf(ctx.tx, input.DomainId)) list.push(await dnsView(ctx.tx, r, ctx.language));
    return { GlobalDnsList: list };
  },

  ModifyGlobalDomainDns: async (input: ModifyGlobalDomainDnsRequest, ctx) => {
    await getGlobalDomain(ctx.tx, input.DomainId);
    const rec = await getDns(ctx.tx, input.DnsRecordId);
    if (rec.data.DomainId !== input.DomainId) {
      throw new ApiError('FailedOperation', `The DNS record \`${input.DnsRecordId}\` does not belong to the global domain \`${input.DomainId}\`.`);
    }
    requireDnsRunning(rec, 'modified');
    const proxies = await checkProxies(ctx.tx, input.ProxyIdList);
    const countries = checkCountries(input.NationCountryInnerCodes);
    checkCountryConflicts(countries, (await dnsRecordsOf(ctx.tx, input.DomainId)).filter((r) => r.id !== rec.id));
    await dnsLife.begin(ctx, rec, DNS_STATUS.modifying, T.dnsSettled, { dnsRecordId: input.DnsRecordId, from: DNS_STATUS.modifying }, { NationCountryInnerCodes: countries, ProxyIdList: proxies });
    return {};
  },

  DeleteGlobalDomainDns: async (input: DeleteGlobalDomainDnsRequest, ctx) => {
    const rec = await getDns(ctx.tx, input.DnsRecordId);
    requireDnsRunning(rec, 'deleted');
    // Gone when the call answers: Terraform's destroy check reads the list at once.
    await ctx.tx.delete(KIND.dnsRecord, rec.id);
    return {};
  },
} satisfies HandlerPart<GaapActions>;

export const transitions: Record<string, TransitionHandler> = {
  /** Closing → closed, opening → open; skipped when something else changed the status meanwhile. */
  [T.domainSettled]: async (p: { domainId: string; from: number; to: number }, tx, now) => {
    const rec = await tx.get<GlobalDomainData>(KIND.globalDomain, p.domainId);
    if (!rec || rec.data.Status !== p.from) return;
    await domainLife.move(tx, rec, p.to, { UpdateTime: unixSeconds(now) });
  },

  /** Creating / modifying → running; deleting → gone (records scheduled for removal by earlier versions). */
  [T.dnsSettled]: async (p: { dnsRecordId: number; from: number }, tx) => {
    const rec = await tx.get<DnsData>(KIND.dnsRecord, dnsKey(p.dnsRecordId));
    if (!rec || rec.data.Status !== p.from) return;
    if (p.from === DNS_STATUS.deleting) {
      await tx.delete(KIND.dnsRecord, rec.id);
      return;
    }
    await dnsLife.move(tx, rec, DNS_STATUS.running);
  },
};

/** The DNS server finds global domains by FullDomain. */
export function prepare(store: Store): void {
  store.ensureFieldIndex(KIND.globalDomain, 'FullDomain');
}
