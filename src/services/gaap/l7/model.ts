import { isIP } from 'node:net';
import { ApiError, invalidParameterValue } from '../../../core/errors';
import type { DomainRuleSet, HttpHeaderParam, HTTPSListener, RuleInfo } from '../../../spec/gaap.types';
import type { ResourceRecord, StoreTx } from '../../../store/types';
import type { ActionContext } from '../../types';
import { getCertificate, type CertificateData } from '../certificate/model';
import { certificateCovers } from '../certificate/model';
import { lifecycle } from '../../kit/lifecycle';
import { listenerLife, type ListenerData } from '../listener/model';
import { KIND } from '../kinds';

/**
 * What the L7 actions (domains, rules, headers, error pages, authentication)
 * share: reading HTTP/HTTPS listeners written by the listener actions, the
 * records of domains and rules, and the checks on their state.
 */

/** A listener record as the L7 actions read it: HTTPS listeners also carry their certificate and TLS settings. */
export type L7ListenerData = ListenerData &
  Partial<Pick<HTTPSListener, 'CertificateId' | 'CertificateAlias' | 'ForwardProtocol' | 'AuthType' | 'TLSSupportVersion' | 'TLSCiphers'>>;

/**
 * A domain under an HTTP/HTTPS listener: the API's DomainRuleSet without what is
 * resolved when read (rules, certificate aliases, the first client CA), plus
 * its listener and the certificate ID lists.
 */
export interface L7DomainData
  extends Omit<
    DomainRuleSet,
    | 'RuleSet'
    | 'CertificateAlias'
    | 'ClientCertificateId'
    | 'ClientCertificateAlias'
    | 'BasicAuthConfAlias'
    | 'RealServerCertificateAlias'
    | 'GaapCertificateAlias'
    | 'PolyClientCertificateAliasInfo'
    | 'PolyRealServerCertificateAliasInfo'
  > {
  ListenerId: string;
  /** `default` = the listener's certificate. */
  CertificateId: string;
  /** Empty = the listener's client CA (`default`). */
  PolyClientCertificateIds: string[];
  PolyRealServerCertificateIds: string[];
}

/** A rule record: the API's RuleInfo, its optional fields always set, plus what only forwarding needs. */
export interface RuleData extends Required<RuleInfo> {
  /** Lower-case domain, to find a domain's rules. */
  DomainKey: string;
  /** HTTP or HTTPS towards the real servers (what it was when the rule last named it; see ruleForwardProtocol). */
  ForwardProtocol: string;
  /** The rule asked for the listener's protocol (`default`, or none given): it follows the listener's, whatever that becomes. Absent in rules stored before it. */
  ForwardProtocolDefault?: boolean;
  Headers: HttpHeaderParam[];
}

/**
 * A rule's origin-blocking settings when CreateRule gives none: the values of
 * the document's own ModifyRuleAttribute example (count failures over 60 s,
 * block after 5, for 600 s).
 */
export const HEALTH_CHECK_BLOCKING_DEFAULTS = { FailedCountInter: 60, FailedThreshold: 5, BlockInter: 600 } as const;

/** DomainStatus (0 running, 1 changing, 2 deleting) and RuleStatus (0 running, 1 creating, 2 deleting, 3 binding, 4 changing). */
export const DOMAIN_RUNNING = 0;
export const DOMAIN_CHANGING = 1;
export const DOMAIN_DELETING = 2;
export const RULE_RUNNING = 0;
export const RULE_CREATING = 1;
export const RULE_DELETING = 2;
export const RULE_BINDING = 3;
export const RULE_CHANGING = 4;

export const DEFAULT_CERT_ALIAS = '默认证书';
export const MAX_DOMAINS_PER_LISTENER = 100;

export const domainKey = (listenerId: string, domain: string): string => `${listenerId}|${domain.toLowerCase()}`;

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** A host name, optionally with a leading `*.` wildcard label. */
export function checkDomainName(name: string, param: string): void {
  const host = name.startsWith('*.') ? name.slice(2) : name;
  const ok = name.length <= 253 && host.includes('.') && host.split('.').every((l) => HOST_LABEL.test(l));
  if (!ok && isIP(name) === 0) throw invalidParameterValue(param, `\`${name}\` is not a domain name`);
}

/** An L7 domain's DomainStatus; changes settle by `l7Domain.settled`, deletions by `l7Domain.removed`. */
export const domainLife = lifecycle<number, L7DomainData>({
  noun: 'domain',
  statuses: [DOMAIN_RUNNING, DOMAIN_CHANGING, DOMAIN_DELETING],
  busy: [DOMAIN_CHANGING, DOMAIN_DELETING],
  read: (rec) => rec.data.DomainStatus,
  write: (data, status) => ({ ...data, DomainStatus: status }),
});

/** A rule's RuleStatus; changes settle by `rule.settled`, deletions by `rule.removed`. */
export const ruleLife = lifecycle<number, RuleData>({
  noun: 'rule',
  statuses: [RULE_RUNNING, RULE_CREATING, RULE_DELETING, RULE_BINDING, RULE_CHANGING],
  busy: [RULE_CREATING, RULE_DELETING, RULE_BINDING, RULE_CHANGING],
  read: (rec) => rec.data.RuleStatus,
  write: (data, status) => ({ ...data, RuleStatus: status }),
});

export const listenerNotFound = (id: string) => new ApiError('ResourceNotFound', `The listener \`${id}\` does not exist.`);

/** An existing HTTP or HTTPS listener of this account. */
export async function getL7Listener(
  ctx: ActionContext,
  listenerId: string,
  wrongProtocolCode = 'InvalidParameterValue',
): Promise<ResourceRecord<L7ListenerData>> {
  const rec = await ctx.tx.get<L7ListenerData>(KIND.listener, listenerId);
  if (!rec) throw listenerNotFound(listenerId);
  const protocol = String(rec.data.Protocol ?? '').toUpperCase();
  if (protocol !== 'HTTP' && protocol !== 'HTTPS') {
    throw new ApiError(wrongProtocolCode, `The listener \`${listenerId}\` is a ${protocol || 'non-L7'} listener: only HTTP and HTTPS listeners have domains and rules.`);
  }
  return rec;
}

export const isHttps = (l: ResourceRecord<L7ListenerData>): boolean => String(l.data.Protocol ?? '').toUpperCase() === 'HTTPS';

/** The protocol a listener forwards to origins with: an HTTPS listener's setting, HTTP otherwise. */
export const listenerForwardProtocol = (l: L7ListenerData): string =>
  String(l.Protocol ?? '').toUpperCase() === 'HTTPS' && (l.ForwardProtocol === 'HTTP' || l.ForwardProtocol === 'HTTPS') ? l.ForwardProtocol : 'HTTP';

/** A rule's protocol towards its origins: its own, or its listener's as it is now. */
export const ruleForwardProtocol = (r: RuleData, l: L7ListenerData): string => (r.ForwardProtocolDefault ? listenerForwardProtocol(l) : r.ForwardProtocol);

export interface GuardCodes {
  /** Listener not idle. Default FailedOperation.ListenerHasTask. */
  busy?: string;
  /** Proxy not RUNNING. */
  proxy?: string;
  /** Group not running; defaults to `proxy`. */
  group?: string;
  /** Proxy is not a 3.0 proxy (domain-level certificates and authentication). */
  version?: string;
}

/** Checks that the listener is idle and that its proxy (or group) is running. */
export async function guardListener(ctx: ActionContext, l: ResourceRecord<L7ListenerData>, codes: GuardCodes): Promise<void> {
  listenerLife.assertIdle(l, codes.busy ?? 'FailedOperation.ListenerHasTask');
  const proxyId = (typeof l.data.ProxyId === 'string' && l.data.ProxyId) || (l.data.GroupId ? undefined : l.parent ?? undefined);
  if (proxyId) {
    const proxy = await ctx.tx.get<Record<string, unknown>>(KIND.proxy, proxyId);
    if (proxy) {
      const status = proxy.status ?? (typeof proxy.data.Status === 'string' ? proxy.data.Status : null);
      if (codes.proxy && status !== null && status !== 'RUNNING') {
        throw new ApiError(codes.proxy, `The proxy \`${proxyId}\` is ${status}, not RUNNING.`);
      }
      const version = proxy.data.Version;
      if (codes.version && typeof version === 'string' && version !== '' && version !== '3.0') {
        throw new ApiError(codes.version, `The proxy \`${proxyId}\` is a version ${version} proxy; this operation needs a 3.0 proxy.`);
      }
    }
  }
  const groupId = typeof l.data.GroupId === 'string' && l.data.GroupId ? l.data.GroupId : undefined;
  if (groupId) {
    const group = await ctx.tx.get<Record<string, unknown>>(KIND.group, groupId);
    const status = group ? group.status ?? (group.data.Status as string | number | undefined) ?? null : null;
    const code = codes.group ?? codes.proxy;
    if (code && status !== null && status !== 'RUNNING' && status !== 0 && status !== '0') {
      throw new ApiError(code, `The proxy group \`${groupId}\` is not running.`);
    }
  }
}

/** The first checks of DeleteDomain and DeleteRule: Force is 0 or 1, the listener is an L7 one and its owner runs. */
export async function checkL7Delete(ctx: ActionContext, listenerId: string, force: number): Promise<void> {
  if (force !== 0 && force !== 1) throw invalidParameterValue('Force', '0 or 1');
  const listener = await getL7Listener(ctx, listenerId);
  await guardListener(ctx, listener, { proxy: 'FailedOperation.InstanceStatusNotInRuning', group: 'FailedOperation.GroupStatusNotInRuning' });
}

export async function getL7Domain(ctx: ActionContext, listenerId: string, domain: string): Promise<ResourceRecord<L7DomainData>> {
  const rec = await ctx.tx.get<L7DomainData>(KIND.domain, domainKey(listenerId, domain));
  if (!rec) throw new ApiError('ResourceNotFound', `The domain \`${domain}\` does not exist on listener \`${listenerId}\`.`);
  return rec;
}

export function assertDomainIdle(d: ResourceRecord<L7DomainData>, code = 'FailedOperation.DomainStatusNotInRunning'): void {
  domainLife.assertIdle(d, code, `The domain \`${d.data.Domain}\` is ${d.data.DomainStatus === DOMAIN_DELETING ? 'being deleted' : 'being changed'}; retry when it is running.`);
}

export function assertRuleIdle(r: ResourceRecord<RuleData>): void {
  ruleLife.assertIdle(r, 'FailedOperation.ListenerHasTask');
}

/** A new domain's data: the listener's certificates, no authentication, no TLS overrides, running; `set` overrides. */
export function newDomainData(listenerId: string, domain: string, set: Partial<L7DomainData> = {}): L7DomainData {
  return {
    ListenerId: listenerId,
    Domain: domain,
    CertificateId: 'default',
    PolyClientCertificateIds: [],
    BasicAuth: 0,
    BasicAuthConfId: '',
    GaapAuth: 0,
    GaapCertificateId: '',
    RealServerAuth: 0,
    RealServerCertificateId: '',
    PolyRealServerCertificateIds: [],
    RealServerCertificateDomain: '',
    DomainStatus: DOMAIN_RUNNING,
    BanStatus: 'RECOVER',
    Http3Supported: 0,
    IsDefaultServer: false,
    TLSCiphers: '',
    TLSSupportVersion: [],
    ...set,
  };
}

/** Stores a domain in the status its data says. */
export async function putDomain(tx: StoreTx, rec: ResourceRecord<L7DomainData>): Promise<void> {
  await domainLife.move(tx, rec, rec.data.DomainStatus);
}

/** Stores a rule in the status its data says. */
export async function putRule(tx: StoreTx, rec: ResourceRecord<RuleData>): Promise<void> {
  await ruleLife.move(tx, rec, rec.data.RuleStatus);
}

export const rulesOfDomain = async (tx: StoreTx, listenerId: string, domain: string) =>
  (await tx.list<RuleData>(KIND.rule, { parent: listenerId, where: [{ field: 'DomainKey', values: [domain.toLowerCase()] }] })).items;

/**
 * A certificate given to a domain or an authentication setting: it must
 * exist and be of the expected type (`code` when it is not).
 */
export async function requireCertificate(ctx: ActionContext, id: string, types: number[], param: string, code = 'InvalidParameterValue'): Promise<CertificateData> {
  const cert = await getCertificate(ctx.tx, id);
  if (!cert) throw new ApiError(code, `The value of parameter \`${param}\` is not valid: the certificate \`${id}\` does not exist.`);
  if (!types.includes(cert.CertificateType)) {
    throw new ApiError(code, `The value of parameter \`${param}\` is not valid: the certificate \`${id}\` is of type ${cert.CertificateType}, expected ${types.join(' or ')}.`);
  }
  return cert;
}

/** The server certificate a domain presents (its own, or the listener's for `default`). */
export async function effectiveServerCertificate(ctx: ActionContext, listener: ResourceRecord<L7ListenerData>, certificateId: string): Promise<CertificateData | undefined> {
  const id = certificateId === 'default' ? listener.data.CertificateId : certificateId;
  return typeof id === 'string' && id ? getCertificate(ctx.tx, id) : undefined;
}

export function assertCovers(cert: CertificateData | undefined, domain: string): void {
  if (!cert || !Array.isArray(cert.DnsNames)) return;
  if (!certificateCovers(cert.DnsNames, domain)) {
    throw new ApiError('InvalidParameterValue.CertificateNotMatchDomain', `The certificate \`${cert.CertificateId}\` does not cover the domain \`${domain}\`.`);
  }
}

/** Client CA certificates: `PolyClientCertificateIds` wins; `default` alone means the listener's. */
export async function clientCertificates(ctx: ActionContext, input: { ClientCertificateId?: string; PolyClientCertificateIds?: string[] }): Promise<string[] | undefined> {
  let ids: string[] | undefined;
  if (input.PolyClientCertificateIds !== undefined) ids = input.PolyClientCertificateIds;
  else if (input.ClientCertificateId !== undefined && input.ClientCertificateId !== '') ids = [input.ClientCertificateId];
  if (ids === undefined) return undefined;
  const real = [...new Set(ids.filter((x) => x !== 'default' && x !== ''))];
  const param = input.PolyClientCertificateIds !== undefined ? 'PolyClientCertificateIds' : 'ClientCertificateId';
  for (const id of real) await requireCertificate(ctx, id, [1], param);
  return real;
}
