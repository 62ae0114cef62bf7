import { ApiError, invalidParameterValue } from '../../../core/errors';
import type { CreateDomainRequest, DeleteDomainRequest, DescribeRulesRequest, GaapActions, ModifyCertificateRequest, ModifyDomainRequest, SetAuthenticationRequest } from '../../../spec/gaap.types';
import type { ResourceRecord, StoreTx } from '../../../store/types';
import type { HandlerPart, TransitionHandler } from '../../types';
import { handlers as errorPageHandlers } from './error-pages';
import {
  assertCovers,
  assertDomainIdle,
  checkDomainName,
  checkL7Delete,
  clientCertificates,
  DOMAIN_CHANGING,
  DOMAIN_DELETING,
  DOMAIN_RUNNING,
  domainKey,
  effectiveServerCertificate,
  getL7Domain,
  getL7Listener,
  guardListener,
  isHttps,
  MAX_DOMAINS_PER_LISTENER,
  newDomainData,
  putDomain,
  requireCertificate,
  RULE_DELETING,
  rulesOfDomain,
  type L7DomainData,
  type RuleData,
} from './model';
import { checkTlsCiphers, checkTlsVersions } from '../listener/model';
import { domainRuleSet } from './views';
import { KIND } from '../kinds';

/** Sets `IsDefaultServer` on one domain of a listener, clearing it on the others. */
async function clearOtherDefaults(tx: StoreTx, listenerId: string, keepKey: string): Promise<void> {
  const { items } = await tx.list<L7DomainData>(KIND.domain, { parent: listenerId });
  for (const d of items) {
    if (d.id !== keepKey && d.data.IsDefaultServer) await putDomain(tx, { ...d, data: { ...d.data, IsDefaultServer: false } });
  }
}

/** Scheduled transitions of L7 domains. */
const T = { settled: 'l7Domain.settled', removed: 'l7Domain.removed' } as const;

const flag = (v: number | undefined, name: string): number => {
  if (v === undefined) return 0;
  if (v !== 0 && v !== 1) throw invalidParameterValue(name, '0 or 1');
  return v;
};

/*
 * Domain-level changes (create, rename, certificates, authentication) take
 * effect within the call: the real service accepts the next domain call at
 * once, and Terraform makes them back to back (CreateDomain, then
 * SetAuthentication as soon as the domain is listed; ModifyCertificate, then
 * SetAuthentication). Only deletion goes through a transient status.
 */
export const handlers = {
  ...errorPageHandlers,

  CreateDomain: async (input: CreateDomainRequest, ctx) => {
    const listener = await getL7Listener(ctx, input.ListenerId, 'FailedOperation.InvalidListenerProtocol');
    await guardListener(ctx, listener, { proxy: 'FailedOperation.InstanceStatusNotInRuning', group: 'FailedOperation.GroupStatusNotInRuning', version: 'FailedOperation.ProxyVersionNotSupport' });
    checkDomainName(input.Domain, 'Domain');
    const key = domainKey(input.ListenerId, input.Domain);
    if (await ctx.tx.get(KIND.domain, key)) {
      throw new ApiError('FailedOperation.DomainAlreadyExisted', `The domain \`${input.Domain}\` already exists on listener \`${input.ListenerId}\`.`);
    }
    const { total } = await ctx.tx.list(KIND.domain, { parent: input.ListenerId, limit: 0 });
    if (total >= MAX_DOMAINS_PER_LISTENER) {
      throw new ApiError('LimitExceeded', `The listener \`${input.ListenerId}\` already has ${MAX_DOMAINS_PER_LISTENER} domains, the maximum.`);
    }
    const http3 = flag(input.Http3Supported, 'Http3Supported');
    let certificateId = 'default';
    let clients: string[] = [];
    if (isHttps(listener)) {
      if (input.CertificateId !== undefined && input.CertificateId !== '' && input.CertificateId !== 'default') {
        await requireCertificate(ctx, input.CertificateId, [2], 'CertificateId');
        certificateId = input.CertificateId;
      }
      assertCovers(await effectiveServerCertificate(ctx, listener, certificateId), input.Domain);
      clients = (await clientCertificates(ctx, input)) ?? [];
    }
    const data = newDomainData(input.ListenerId, input.Domain, {
      CertificateId: certificateId,
      PolyClientCertificateIds: clients,
      DomainStatus: DOMAIN_RUNNING,
      Http3Supported: http3,
      IsDefaultServer: input.IsDefaultServer ?? false,
    });
    await putDomain(ctx.tx, { kind: KIND.domain, id: key, parent: input.ListenerId, status: null, createdAt: ctx.now, data });
    if (data.IsDefaultServer) await clearOtherDefaults(ctx.tx, input.ListenerId, key);
    return {};
  },

  ModifyDomain: async (input: ModifyDomainRequest, ctx) => {
    const listener = await getL7Listener(ctx, input.ListenerId, 'FailedOperation.InvalidListenerProtocol');
    await guardListener(ctx, listener, { proxy: 'FailedOperation.InstanceStatusNotInRuning' });
    const old = await getL7Domain(ctx, input.ListenerId, input.OldDomain);
    assertDomainIdle(old);
    checkDomainName(input.NewDomain, 'NewDomain');
    const newKey = domainKey(input.ListenerId, input.NewDomain);
    const renamed = newKey !== old.id;
    if (renamed && (await ctx.tx.get(KIND.domain, newKey))) {
      throw new ApiError('FailedOperation.DomainAlreadyExisted', `The domain \`${input.NewDomain}\` already exists on listener \`${input.ListenerId}\`.`);
    }
    const data: L7DomainData = { ...old.data, Domain: input.NewDomain, DomainStatus: DOMAIN_RUNNING };
    if (isHttps(listener)) {
      if (input.CertificateId !== undefined && input.CertificateId !== '') {
        if (input.CertificateId !== 'default') await requireCertificate(ctx, input.CertificateId, [2], 'CertificateId');
        data.CertificateId = input.CertificateId;
      }
      const clients = await clientCertificates(ctx, input);
      if (clients !== undefined) data.PolyClientCertificateIds = clients;
      assertCovers(await effectiveServerCertificate(ctx, listener, data.CertificateId), input.NewDomain);
    }
    if (input.IsDefaultServer !== undefined) data.IsDefaultServer = input.IsDefaultServer;
    if (renamed) await ctx.tx.delete(KIND.domain, old.id);
    if (input.NewDomain !== old.data.Domain) {
      for (const r of await rulesOfDomain(ctx.tx, input.ListenerId, input.OldDomain)) {
        // A health-check host that defaulted to the domain follows it.
        const cp = r.data.CheckParams;
        const checkParams = cp.Domain?.toLowerCase() === input.OldDomain.toLowerCase() ? { ...cp, Domain: input.NewDomain } : cp;
        await ctx.tx.put({ ...r, data: { ...r.data, Domain: input.NewDomain, DomainKey: input.NewDomain.toLowerCase(), CheckParams: checkParams } });
      }
      const pages = await ctx.tx.list<{ Domain: string }>(KIND.errorPage, { parent: input.ListenerId });
      for (const p of pages.items) {
        if (p.data.Domain.toLowerCase() === input.OldDomain.toLowerCase()) await ctx.tx.put({ ...p, data: { ...p.data, Domain: input.NewDomain } });
      }
    }
    await putDomain(ctx.tx, { ...old, id: newKey, data });
    if (data.IsDefaultServer) await clearOtherDefaults(ctx.tx, input.ListenerId, newKey);
    return {};
  },

  DeleteDomain: async (input: DeleteDomainRequest, ctx) => {
    await checkL7Delete(ctx, input.ListenerId, input.Force);
    const d = await getL7Domain(ctx, input.ListenerId, input.Domain);
    assertDomainIdle(d);
    const rules = await rulesOfDomain(ctx.tx, input.ListenerId, input.Domain);
    if (input.Force === 0) {
      const bound = rules.find((r) => r.data.RealServerSet.length > 0);
      if (bound) {
        throw new ApiError('FailedOperation.RealServerAlreadyBound', `The rule \`${bound.id}\` of domain \`${input.Domain}\` has real servers bound; unbind them or set Force to 1.`);
      }
    }
    for (const r of rules) await ctx.tx.put({ ...r, status: String(RULE_DELETING), data: { ...r.data, RuleStatus: RULE_DELETING } });
    await putDomain(ctx.tx, { ...d, data: { ...d.data, DomainStatus: DOMAIN_DELETING } });
    await ctx.later(T.removed, { key: d.id });
    return {};
  },

  ModifyCertificate: async (input: ModifyCertificateRequest, ctx) => {
    const listener = await getL7Listener(ctx, input.ListenerId);
    if (!isHttps(listener)) throw invalidParameterValue('ListenerId', `the listener \`${input.ListenerId}\` is not an HTTPS listener`);
    await guardListener(ctx, listener, { proxy: 'FailedOperation.ProxyStatusNotInRuning', group: 'FailedOperation.GroupStatusNotInRuning', version: 'FailedOperation.ProxyVersionNotSupport' });
    const d = await getL7Domain(ctx, input.ListenerId, input.Domain);
    assertDomainIdle(d);
    const certificateId = input.CertificateId === '' ? 'default' : input.CertificateId;
    if (certificateId !== 'default') await requireCertificate(ctx, certificateId, [2], 'CertificateId');
    assertCovers(await effectiveServerCertificate(ctx, listener, certificateId), d.data.Domain);
    const clients = await clientCertificates(ctx, input);
    const data: L7DomainData = { ...d.data, CertificateId: certificateId, DomainStatus: DOMAIN_RUNNING };
    if (clients !== undefined) data.PolyClientCertificateIds = clients;
    await putDomain(ctx.tx, { ...d, data });
    return {};
  },

  SetAuthentication: async (input: SetAuthenticationRequest, ctx) => {
    const listener = await getL7Listener(ctx, input.ListenerId);
    if (!isHttps(listener)) throw invalidParameterValue('ListenerId', `the listener \`${input.ListenerId}\` is not an HTTPS listener`);
    await guardListener(ctx, listener, { version: 'FailedOperation.ProxyVersionNotSupport' });
    const d = await getL7Domain(ctx, input.ListenerId, input.Domain);
    assertDomainIdle(d, 'FailedOperation.ActionIsDoing');
    const basic = flag(input.BasicAuth, 'BasicAuth');
    const gaap = flag(input.GaapAuth, 'GaapAuth');
    const rs = flag(input.RealServerAuth, 'RealServerAuth');
    const bad = 'InvalidParameterValue.InvalidCertificateId';
    const basicId = input.BasicAuthConfId ?? '';
    const gaapId = input.GaapCertificateId ?? '';
    let rsIds = (input.PolyRealServerCertificateIds ?? (input.RealServerCertificateId ? [input.RealServerCertificateId] : [])).filter((x) => x !== '');
    rsIds = [...new Set(rsIds)];
    if (basic === 1 && !basicId) throw new ApiError(bad, 'The parameter `BasicAuthConfId` is required when `BasicAuth` is 1.');
    if (gaap === 1 && !gaapId) throw new ApiError(bad, 'The parameter `GaapCertificateId` is required when `GaapAuth` is 1.');
    if (rs === 1 && rsIds.length === 0) throw new ApiError(bad, 'The parameter `RealServerCertificateId` or `PolyRealServerCertificateIds` is required when `RealServerAuth` is 1.');
    if (basicId) await requireCertificate(ctx, basicId, [0], 'BasicAuthConfId', bad);
    if (gaapId) await requireCertificate(ctx, gaapId, [4], 'GaapCertificateId', bad);
    const rsParam = input.PolyRealServerCertificateIds !== undefined ? 'PolyRealServerCertificateIds' : 'RealServerCertificateId';
    for (const id of rsIds) await requireCertificate(ctx, id, [3], rsParam, bad);
    const data: L7DomainData = {
      ...d.data,
      BasicAuth: basic,
      BasicAuthConfId: basicId,
      GaapAuth: gaap,
      GaapCertificateId: gaapId,
      RealServerAuth: rs,
      RealServerCertificateId: rsIds[0] ?? '',
      PolyRealServerCertificateIds: rsIds,
      RealServerCertificateDomain: input.RealServerCertificateDomain ?? '',
      DomainStatus: DOMAIN_RUNNING,
    };
    if (input.TLSSupportVersion !== undefined) data.TLSSupportVersion = checkTlsVersions(input.TLSSupportVersion);
    if (input.TLSCiphers !== undefined) data.TLSCiphers = checkTlsCiphers(input.TLSCiphers);
    await putDomain(ctx.tx, { ...d, data });
    return {};
  },

  DescribeRules: async (input: DescribeRulesRequest, ctx) => {
    const listener = await getL7Listener(ctx, input.ListenerId);
    const domains = await ctx.tx.list<L7DomainData>(KIND.domain, { parent: input.ListenerId });
    const rules = await ctx.tx.list<RuleData>(KIND.rule, { parent: input.ListenerId });
    const set = [];
    for (const d of domains.items) {
      const mine = rules.items.filter((r) => r.data.DomainKey === d.data.Domain.toLowerCase()).map((r) => r.data);
      set.push(await domainRuleSet(ctx, listener, d.data, mine));
    }
    return { DomainRuleSet: set, TotalCount: domains.total };
  },
} satisfies HandlerPart<GaapActions>;

/** Removes a domain with its rules and error pages. */
async function removeDomain(tx: StoreTx, rec: ResourceRecord<L7DomainData>): Promise<void> {
  for (const r of await rulesOfDomain(tx, rec.data.ListenerId, rec.data.Domain)) await tx.delete(KIND.rule, r.id);
  const pages = await tx.list<{ Domain: string }>(KIND.errorPage, { parent: rec.data.ListenerId });
  for (const p of pages.items) if (p.data.Domain.toLowerCase() === rec.data.Domain.toLowerCase()) await tx.delete(KIND.errorPage, p.id);
  await tx.delete(KIND.domain, rec.id);
}

export const transitions: Record<string, TransitionHandler> = {
  /** Domains changed by earlier versions, which settled through a transition. */
  [T.settled]: async (p: { key: string }, tx) => {
    const rec = await tx.get<L7DomainData>(KIND.domain, p.key);
    if (rec && rec.data.DomainStatus === DOMAIN_CHANGING) await putDomain(tx, { ...rec, data: { ...rec.data, DomainStatus: DOMAIN_RUNNING } });
  },
  [T.removed]: async (p: { key: string }, tx) => {
    const rec = await tx.get<L7DomainData>(KIND.domain, p.key);
    if (rec && rec.data.DomainStatus === DOMAIN_DELETING) await removeDomain(tx, rec);
  },
};
