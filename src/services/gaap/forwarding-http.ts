/**
 * The forwarding view of HTTP and HTTPS listeners: their domains (with the
 * certificates and TLS settings they serve, their basic authentication),
 * each domain's rules (path, scheduler, origins, how to reach and
 * authenticate them, custom headers) and error pages, read from the stored
 * records in one transaction. Like the L4 view it knows no sockets.
 */
import { percentDecoded } from '../../core/url-path';
import type { StoreTx } from '../../store/types';
import { getCertificate } from './certificate/model';
import { originsOf, ownerOf, policies, SERVING_LISTENER, type ListenerContext, type SecurityPolicy, type ForwardingOrigin, type HealthCheckSettings, type Scheduler } from './forwarding';
import { HEALTH_CHECK_BLOCKING_DEFAULTS, ruleForwardProtocol, type L7DomainData as DomainData, type L7ListenerData as ListenerData, type RuleData } from './l7/model';
import { KIND } from './kinds';

/** A certificate and its key, PEM, with the client CAs that mutual authentication accepts (none: one-way). */
export interface ServedCertificate {
  certificateId: string;
  cert: string;
  key: string;
  clientCas: string[];
  /** The listener's TLS versions (`SetTlsVersion`), as Node names them, and its cipher profile. */
  versions: string[];
  cipherProfile: string;
}

/** A domain's basic-authentication file (`SetAuthentication` BasicAuth): `user:hash` lines. */
export interface BasicAuthUsers {
  configId: string;
  content: string;
}

/** How the proxy authenticates HTTPS origins and itself to them (`SetAuthentication` of the rule's domain). */
export interface OriginTls {
  /** RealServerAuth: the origin CA certificates (PEM) the origin's chain must lead to; undefined verifies nothing. */
  cas?: string[];
  /** The name the origin's certificate must carry (RealServerCertificateDomain); else the rule's SNI, else the Host sent. */
  verifyName?: string;
  /** GaapAuth: the PROXY (type 4) certificate and key presented to origins that ask for one. */
  clientCert?: { cert: string; key: string };
}

export interface HttpErrorPage {
  errorNos: number[];
  body: string;
  /** The status sent instead; undefined keeps the original. */
  newErrorNo: number | undefined;
  clearHeaders: string[];
  setHeaders: Array<{ name: string; value: string }>;
}

export interface HttpRule {
  ruleId: string;
  /** Decoded path prefix. */
  path: string;
  scheduler: Scheduler;
  forwardProtocol: 'HTTP' | 'HTTPS';
  /** Host sent to the origin; undefined forwards the client's. */
  forwardHost: string | undefined;
  /** SNI sent to HTTPS origins; undefined sends none. */
  serverName: string | undefined;
  headers: Array<{ name: string; value: string }>;
  /** ForcedRedirect: redirect HTTP requests to HTTPS instead of forwarding them ('' off). */
  forcedRedirect: string;
  origins: ForwardingOrigin[];
  /** Towards HTTPS origins: verification and the client certificate. */
  originTls: OriginTls;
  failover: boolean;
  /** Active checks: every DelayLoop s a request that must answer within ConnectTimeout s. */
  health: HealthCheckSettings;
  check: HttpCheck;
  passive: PassiveCheckSettings;
}

/** Passive checks: FailedThreshold failed requests within FailedCountInter s block an origin for BlockInter s (0 in any: off). */
export interface PassiveCheckSettings {
  /** Only rules with HealthCheck 1: without checks the document has origins always normal. */
  enabled: boolean;
  failedCountInter: number;
  failedThreshold: number;
  blockInter: number;
}

export interface HttpCheck {
  method: string;
  /** Decoded path. */
  path: string;
  /** Host header of the check: CheckParams.Domain, else the rule's domain. */
  host: string;
  /** Status classes that mean healthy (200 = 2xx). */
  statusClasses: number[];
}

/**
 * The document gives L7 checks no thresholds: they take the TCP listeners'
 * defaults (three results in a row flip an origin).
 */
const RULE_CHECK_THRESHOLD = 3;

export interface HttpDomain {
  /** Lower-case host name. */
  domain: string;
  isDefault: boolean;
  /** HTTPS: the certificate served for this name (the listener's when `default`), with the domain's TLS settings. */
  certificate: ServedCertificate | undefined;
  /** Requests must carry credentials of this file (HTTPS domains with BasicAuth 1). */
  basicAuth: BasicAuthUsers | undefined;
  /** Longest path first, so the first prefix that matches is the longest. */
  rules: HttpRule[];
  errorPages: HttpErrorPage[];
}

export interface HttpListener {
  listenerId: string;
  protocol: 'HTTP' | 'HTTPS';
  port: number;
  proxyIds: string[];
  groupId: string | null;
  serving: boolean;
  /** AuthType 1: clients must present a certificate issued by the client CAs. */
  mutualAuth: boolean;
  /** The opened security policy of the listener's proxy or group. */
  security: SecurityPolicy | null;
  certificate: ServedCertificate | undefined;
  /** Http3Supported 1: the listener's UDP port is taken too. */
  http3: boolean;
  domains: HttpDomain[];
}

/** Record kinds the HTTP view is built from. */
export const HTTP_KINDS: ReadonlySet<string> = new Set([
  KIND.securityPolicy, KIND.securityRule, KIND.proxy, KIND.group, KIND.listener, KIND.domain, KIND.rule, KIND.errorPage, KIND.certificate,
]);

/** Rules that carry traffic: running, binding origins, changing settings (not creating or deleting). */
const SERVING_RULE = new Set([0, 3, 4]);
const DOMAIN_DELETING = 2;

type TlsSettings = Pick<ServedCertificate, 'versions' | 'cipherProfile'>;

async function certificate(tx: StoreTx, id: string | undefined, clientCas: string[], tls: TlsSettings): Promise<ServedCertificate | undefined> {
  if (!id || id === 'default') return undefined;
  const c = await getCertificate(tx, id);
  if (!c || !c.CertificateContent || !c.CertificateKey) return undefined;
  return { certificateId: id, cert: c.CertificateContent, key: c.CertificateKey, clientCas, ...tls };
}

const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** TLS versions and cipher profile of a listener or domain record; what it leaves unset comes from `inherited`. */
function tlsOf(d: { TLSSupportVersion?: unknown; TLSCiphers?: unknown }, inherited?: TlsSettings): TlsSettings {
  const listed = Array.isArray(d.TLSSupportVersion) ? TLS_VERSIONS.filter((v) => (d.TLSSupportVersion as unknown[]).includes(v)) : [];
  return {
    versions: listed.length ? listed : inherited?.versions ?? TLS_VERSIONS,
    cipherProfile: typeof d.TLSCiphers === 'string' && d.TLSCiphers ? d.TLSCiphers : inherited?.cipherProfile ?? 'GAAP_TLS_CIPHERS_WIDE',
  };
}

/** The PEM of each client CA certificate listed. */
async function caPems(tx: StoreTx, ids: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) {
    const c = id && id !== 'default' ? await getCertificate(tx, id) : undefined;
    if (c?.CertificateContent) out.push(c.CertificateContent);
  }
  return out;
}

const idsOf = (list: unknown): string[] =>
  (Array.isArray(list) ? list : []).map((x) => (typeof x === 'string' ? x : String((x as { CertificateId?: unknown } | null)?.CertificateId ?? ''))).filter((x) => x !== '');

const headerList = (list: unknown): Array<{ name: string; value: string }> =>
  (Array.isArray(list) ? list : [])
    .filter((h) => h && typeof h.HeaderName === 'string')
    .map((h) => ({ name: String(h.HeaderName), value: String(h.HeaderValue ?? '') }));

function ruleView(r: RuleData, listener: ListenerData): HttpRule {
  const p = r.CheckParams ?? ({} as RuleData['CheckParams']);
  const sni = r.ServerNameIndicationSwitch === 'ON' && r.ServerNameIndication ? r.ServerNameIndication : undefined;
  return {
    ruleId: r.RuleId,
    path: percentDecoded(r.Path || '/'),
    scheduler: (['rr', 'wrr', 'lc', 'lrtt'].includes(r.Scheduler) ? r.Scheduler : 'rr') as Scheduler,
    forwardProtocol: ruleForwardProtocol(r, listener) === 'HTTPS' ? 'HTTPS' : 'HTTP',
    forwardHost: r.ForwardHost && r.ForwardHost !== 'default' ? r.ForwardHost : undefined,
    serverName: sni,
    headers: headerList(r.Headers),
    forcedRedirect: r.ForcedRedirect ?? '',
    origins: originsOf(r as unknown as Record<string, unknown>, null),
    originTls: {},
    failover: (r.RealServerSet ?? []).some((s) => s.RealServerFailoverRole === 'master' || s.RealServerFailoverRole === 'slave'),
    health: {
      enabled: r.HealthCheck === 1,
      delayLoop: p.DelayLoop || 5,
      connectTimeout: p.ConnectTimeout || 2,
      healthyThreshold: RULE_CHECK_THRESHOLD,
      unhealthyThreshold: RULE_CHECK_THRESHOLD,
      type: 'CONNECT', checkPort: 0, send: '', expect: '',
    },
    check: {
      method: p.Method === 'GET' ? 'GET' : 'HEAD',
      path: p.Path || '/',
      host: p.Domain || r.Domain,
      statusClasses: p.StatusCode?.length ? p.StatusCode : [100, 200, 300, 400, 500],
    },
    passive: {
      enabled: r.HealthCheck === 1,
      failedCountInter: p.FailedCountInter ?? HEALTH_CHECK_BLOCKING_DEFAULTS.FailedCountInter,
      failedThreshold: p.FailedThreshold ?? HEALTH_CHECK_BLOCKING_DEFAULTS.FailedThreshold,
      blockInter: p.BlockInter ?? HEALTH_CHECK_BLOCKING_DEFAULTS.BlockInter,
    },
  };
}

/**
 * A domain's certificate (the listener's for `default`) with its client CAs
 * (the listener's when it lists none) and its TLS versions and ciphers
 * (SetAuthentication's; the listener's where the domain sets none).
 */
async function domainCertificate(tx: StoreTx, dom: DomainData, listenerCert: ServedCertificate | undefined, listenerCas: string[] | undefined, listenerTls: TlsSettings): Promise<ServedCertificate | undefined> {
  const own = idsOf(dom.PolyClientCertificateIds);
  const cas = listenerCas === undefined ? [] : own.length && !own.includes('default') ? await caPems(tx, own) : listenerCas;
  const tls = tlsOf(dom, listenerTls);
  const served = (await certificate(tx, dom.CertificateId, cas, tls)) ?? listenerCert;
  return served && { ...served, clientCas: cas, ...tls };
}

/** A domain's basic authentication: its user file, when BasicAuth is on and the file exists. */
async function basicAuthOf(tx: StoreTx, dom: DomainData): Promise<BasicAuthUsers | undefined> {
  if (Number(dom.BasicAuth) !== 1 || !dom.BasicAuthConfId) return undefined;
  const c = await getCertificate(tx, dom.BasicAuthConfId);
  // A file that went missing lets no one in rather than everyone.
  return { configId: dom.BasicAuthConfId, content: c?.CertificateContent ?? '' };
}

/** How the domain's rules authenticate HTTPS origins (RealServerAuth) and the proxy to them (GaapAuth). */
async function originTlsOf(tx: StoreTx, dom: DomainData): Promise<OriginTls> {
  const out: OriginTls = {};
  if (Number(dom.RealServerAuth) === 1) {
    const ids = idsOf(dom.PolyRealServerCertificateIds).length ? idsOf(dom.PolyRealServerCertificateIds) : idsOf([dom.RealServerCertificateId]);
    out.cas = await caPems(tx, ids);
    if (dom.RealServerCertificateDomain) out.verifyName = dom.RealServerCertificateDomain.toLowerCase();
  }
  if (Number(dom.GaapAuth) === 1 && dom.GaapCertificateId) {
    const c = await getCertificate(tx, dom.GaapCertificateId);
    if (c?.CertificateContent && c.CertificateKey) out.clientCert = { cert: c.CertificateContent, key: c.CertificateKey };
  }
  return out;
}

/** True for the listener records the HTTP view is made of. */
export const isHttpListener = (d: { Protocol?: unknown }): boolean => d.Protocol === 'HTTP' || d.Protocol === 'HTTPS';

/** The views of these HTTP/HTTPS listener records, with their domains, rules, error pages and certificates read in `tx`. */
export async function httpListenerViews(tx: StoreTx, listeners: ReadonlyArray<{ id: string; data: ListenerData & Record<string, unknown> }>, ctx: ListenerContext): Promise<HttpListener[]> {
  const out: HttpListener[] = [];
  for (const { id, data: d } of listeners) {
    const https = d.Protocol === 'HTTPS';
    const mutualAuth = https && Number(d.AuthType) === 1;
    const listenerCas = mutualAuth ? await caPems(tx, idsOf(d.PolyClientCertificateAliasInfo).length ? idsOf(d.PolyClientCertificateAliasInfo) : idsOf([d.ClientCertificateId])) : [];
    const tls = tlsOf(d);
    const listenerCert = https ? await certificate(tx, d.CertificateId, listenerCas, tls) : undefined;
    const rules = (await tx.list<RuleData>(KIND.rule, { parent: id })).items.map((r) => r.data).filter((r) => SERVING_RULE.has(r.RuleStatus));
    const pages = (await tx.list<{ Domain: string; ErrorNos: number[]; Body: string; NewErrorNo?: number; ClearHeaders?: string[]; SetHeaders?: unknown }>(KIND.errorPage, { parent: id })).items.map((p) => p.data);
    const domains: HttpDomain[] = [];
    for (const { data: dom } of (await tx.list<DomainData>(KIND.domain, { parent: id })).items) {
      if (dom.DomainStatus === DOMAIN_DELETING) continue;
      const key = dom.Domain.toLowerCase();
      // SetAuthentication is for HTTPS listeners only; HTTP domains keep none of its settings.
      const originTls = https ? await originTlsOf(tx, dom) : {};
      domains.push({
        domain: key,
        isDefault: dom.IsDefaultServer === true,
        certificate: https ? await domainCertificate(tx, dom, listenerCert, mutualAuth ? listenerCas : undefined, tls) : undefined,
        basicAuth: https ? await basicAuthOf(tx, dom) : undefined,
        rules: rules.filter((r) => r.DomainKey === key).map((r) => ({ ...ruleView(r, d), originTls })).sort((a, b) => b.path.length - a.path.length),
        errorPages: pages.filter((p) => p.Domain.toLowerCase() === key).map((p) => ({
          errorNos: p.ErrorNos ?? [],
          body: p.Body ?? '',
          newErrorNo: typeof p.NewErrorNo === 'number' && p.NewErrorNo > 0 ? p.NewErrorNo : undefined,
          clearHeaders: p.ClearHeaders ?? [],
          setHeaders: headerList(p.SetHeaders),
        })),
      });
    }
    const groupId = typeof d.GroupId === 'string' && d.GroupId ? d.GroupId : null;
    const proxyId = typeof d.ProxyId === 'string' && d.ProxyId ? d.ProxyId : null;
    out.push({
      listenerId: id,
      protocol: https ? 'HTTPS' : 'HTTP',
      port: Number(d.Port),
      proxyIds: groupId ? [...ctx.members(groupId)] : proxyId ? [proxyId] : [],
      groupId,
      serving: SERVING_LISTENER.has(Number(d.ListenerStatus)),
      mutualAuth,
      security: ctx.policy(ownerOf(groupId, proxyId)),
      certificate: listenerCert,
      http3: https && Number(d.Http3Supported) === 1,
      domains,
    });
  }
  return out;
}
