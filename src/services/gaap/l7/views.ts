import type { CertificateAliasInfo, DomainRuleSet, RuleInfo } from '../../../spec/gaap.types';
import type { ResourceRecord } from '../../../store/types';
import type { ActionContext } from '../../types';
import { getCertificate } from '../certificate/model';
import { DEFAULT_CERT_ALIAS, HEALTH_CHECK_BLOCKING_DEFAULTS, ruleForwardProtocol, type L7DomainData, type L7ListenerData, type RuleData } from './model';

/** RuleInfo as the API returns it (internal fields left out). */
export function ruleInfo(r: RuleData, listener: L7ListenerData): RuleInfo {
  return {
    RuleId: r.RuleId,
    ListenerId: r.ListenerId,
    Domain: r.Domain,
    Path: r.Path,
    RealServerType: r.RealServerType,
    Scheduler: r.Scheduler,
    HealthCheck: r.HealthCheck,
    RuleStatus: r.RuleStatus,
    // Rules stored by earlier versions lack the newer health-check fields.
    CheckParams: { ...HEALTH_CHECK_BLOCKING_DEFAULTS, ...r.CheckParams },
    RealServerSet: r.RealServerSet,
    BindStatus: r.BindStatus,
    ForwardHost: r.ForwardHost,
    ServerNameIndicationSwitch: r.ServerNameIndicationSwitch,
    ServerNameIndication: r.ServerNameIndication,
    ForcedRedirect: r.ForcedRedirect,
    ForwardProtocol: ruleForwardProtocol(r, listener),
  };
}

/** The current alias of a certificate ("" once it is gone); `default` is the listener's. */
async function aliasOf(ctx: ActionContext, id: string): Promise<string> {
  if (!id) return '';
  if (id === 'default') return DEFAULT_CERT_ALIAS;
  return (await getCertificate(ctx.tx, id))?.CertificateAlias ?? '';
}

async function aliasInfo(ctx: ActionContext, ids: string[]): Promise<CertificateAliasInfo[]> {
  const out = [];
  for (const id of ids) out.push({ CertificateId: id, CertificateAlias: await aliasOf(ctx, id) });
  return out;
}

/** DomainRuleSet: a domain with its settings and its rules. */
export async function domainRuleSet(ctx: ActionContext, listener: ResourceRecord<L7ListenerData>, d: L7DomainData, rules: RuleData[]): Promise<DomainRuleSet> {
  const clients = d.PolyClientCertificateIds.length > 0 ? d.PolyClientCertificateIds : ['default'];
  return {
    Domain: d.Domain,
    RuleSet: rules.map((r) => ruleInfo(r, listener.data)),
    CertificateId: d.CertificateId,
    CertificateAlias: await aliasOf(ctx, d.CertificateId),
    ClientCertificateId: clients[0],
    ClientCertificateAlias: await aliasOf(ctx, clients[0]),
    BasicAuthConfId: d.BasicAuthConfId,
    BasicAuth: d.BasicAuth,
    BasicAuthConfAlias: await aliasOf(ctx, d.BasicAuthConfId),
    RealServerCertificateId: d.RealServerCertificateId,
    RealServerAuth: d.RealServerAuth,
    RealServerCertificateAlias: await aliasOf(ctx, d.RealServerCertificateId),
    GaapCertificateId: d.GaapCertificateId,
    GaapAuth: d.GaapAuth,
    GaapCertificateAlias: await aliasOf(ctx, d.GaapCertificateId),
    RealServerCertificateDomain: d.RealServerCertificateDomain,
    PolyClientCertificateAliasInfo: await aliasInfo(ctx, clients),
    PolyRealServerCertificateAliasInfo: await aliasInfo(ctx, d.PolyRealServerCertificateIds),
    DomainStatus: d.DomainStatus,
    BanStatus: d.BanStatus,
    Http3Supported: d.Http3Supported,
    IsDefaultServer: d.IsDefaultServer,
    TLSCiphers: d.TLSCiphers,
    TLSSupportVersion: d.TLSSupportVersion,
  };
}
