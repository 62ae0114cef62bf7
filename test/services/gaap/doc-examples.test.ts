/**
 * Every request example (输入示例) of the GAAP document, replayed verbatim
 * with its resource ids replaced by ids of resources that exist, is
 * accepted. The examples come from `src/spec/gaap.examples.json`, which the
 * spec generator extracts from the document (and the spec test keeps fresh).
 *
 * Only ids are substituted: every other value (names, ports, domains,
 * numbers written as strings, URL-encoded paths) goes as the document
 * writes it. Where an example needs a resource in a given state (a domain
 * named as in the example, a closed proxy, an unused certificate), it is
 * prepared first, through the API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../src/server';
import examples from '../../../src/spec/gaap.examples.json';
import { cnClient, startTclocal } from '../../helpers';
import { selfSigned } from '../../../testkit/pem';

type Params = Record<string, unknown>;
interface Example { line: number; action: string; params: Params }

/**
 * Examples that cannot be accepted as written, whatever the ids: their
 * values are placeholders, not API values. Kept short and explained.
 */
const PLACEHOLDERS: Record<number, string> = {
  21054: 'CreateSecurityRules: every value is the placeholder "字符串" (string)',
  26187: 'CreateCertificate: the certificate and key are elided ("MIIFmDIUJIJL.......C", "xxxxxxxxxxx")',
  17687: 'CreateProxyGroup: AccessRegion "Guangzho" is not a region (the example cuts "Guangzhou")',
  26236: 'CreateCertificate: the certificate is cut off in the document (no END CERTIFICATE line)',
};

describe('GAAP document examples', () => {
  let server: RunningServer;
  let gaap: any;
  const pem = selfSigned('www.baidu.com', { sans: ['www.baidu.com', 'www.test.com', 'a.a.com', 'b.b.com', '*.baidu.com'] });
  const ca = selfSigned('example CA', { sans: [], ca: true });

  before(async () => {
    server = await startTclocal({ rateLimits: false });
    gaap = cnClient('gaap', server);
    const created = await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'world', AccessRegion: 'Hongkong', RealServerRegion: 'Shanghai', Bandwidth: 10, Concurrent: 2 });
    w.proxy = created.InstanceId;
    w.task = created.RequestId;
    w.tcp = await listener('TCP', w.proxy, 9000);
    w.udp = await listener('UDP', w.proxy, 9000);
    w.http = await listener('HTTP', w.proxy, 80);
    w.https = await listener('HTTPS', w.proxy, 443);
    w.domain = 'www.example-domain.com';
    await domain(w.http, w.domain);
    w.rule = await rule(w.http, w.domain);
    w.rs = await realServer('10.2.2.2');
    await gaap.BindListenerRealServers({ ListenerId: w.tcp, RealServerBindSet: [{ RealServerId: w.rs, RealServerIP: '10.2.2.2', RealServerPort: 80 }] });
    w.clientCert = await cert(1, ca.cert);
    w.globalDomain = await globalDomain();
    w.group = await group(true);
    w.policy = await policy(await proxy(), true);
  });
  after(() => server.stop());

  // ------------------------------------------------------------ resources

  const proxy = async (name = 'example', access = 'Hongkong', dest = 'Shanghai'): Promise<string> =>
    (await gaap.CreateProxy({ ProjectId: 0, ProxyName: name, AccessRegion: access, RealServerRegion: dest, Bandwidth: 10, Concurrent: 2 })).InstanceId;
  const cert = async (type: number, content = pem.cert, key?: string): Promise<string> =>
    (await gaap.CreateCertificate({ CertificateType: type, CertificateContent: content, CertificateKey: key, CertificateAlias: `t${type}` })).CertificateId;
  const serverCert = () => cert(2, pem.cert, pem.key);
  const realServer = async (ip: string): Promise<string> => (await gaap.AddRealServers({ ProjectId: 0, RealServerIP: [ip], RealServerName: ip })).RealServerSet[0].RealServerId;
  const listener = async (protocol: 'TCP' | 'UDP' | 'HTTP' | 'HTTPS', proxyId: string, port: number): Promise<string> => {
    if (protocol === 'TCP' || protocol === 'UDP') {
      return (await gaap[`Create${protocol}Listeners`]({ ProxyId: proxyId, ListenerName: 'l4', Ports: [port], Scheduler: 'rr', RealServerType: 'IP', HealthCheck: 0, DelayLoop: 5, ConnectTimeout: 2 })).ListenerIds[0];
    }
    if (protocol === 'HTTP') return (await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'l7', Port: port })).ListenerId;
    return (await gaap.CreateHTTPSListener({ ProxyId: proxyId, ListenerName: 'l7s', Port: port, CertificateId: await serverCert(), ForwardProtocol: 'HTTP' })).ListenerId;
  };
  const rule = async (listenerId: string, domain: string, path = '/'): Promise<string> =>
    (await gaap.CreateRule({ ListenerId: listenerId, Domain: domain, Path: path, RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 0, CheckParams: { DelayLoop: 5, ConnectTimeout: 2, Path: '/', Method: 'HEAD', StatusCode: [200] } })).RuleId;
  const domain = async (listenerId: string, name: string) => gaap.CreateDomain({ ListenerId: listenerId, Domain: name });

  let portSeq = 1000;
  const port = () => portSeq++;

  /**
   * How each action's example gets its ids: a function from the example's
   * parameters to the values replacing its ids (by parameter path).
   */
  const w: Record<string, string> = {};
  const findOrAddRealServer = async (ip: string): Promise<string> => {
    const found = (await gaap.DescribeRealServers({ ProjectId: -1, SearchValue: ip })).RealServerSet.find((r: any) => r.RealServerIP === ip);
    return found ? found.RealServerId : realServer(ip);
  };
  const globalDomain = async (closed = false): Promise<string> => {
    const { DomainId } = await gaap.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '1.1.1.1' });
    if (closed) await gaap.DisableGlobalDomain({ DomainId });
    return DomainId;
  };
  const dnsRecord = async (domainId: string, code: string): Promise<number> => {
    await gaap.CreateGlobalDomainDns({ DomainId: domainId, ProxyIdList: [w.proxy], NationCountryInnerCodes: [code] });
    return (await gaap.DescribeGlobalDomainDns({ DomainId: domainId })).GlobalDnsList.at(-1).DnsRecordId;
  };
  const group = async (withProxy: boolean): Promise<string> =>
    (await gaap.CreateProxyGroup({ ProjectId: 0, GroupName: 'g', RealServerRegion: 'Shanghai', AccessRegionSet: withProxy ? [{ AccessRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 }] : [] })).GroupId;
  const policy = async (proxyId: string, open: boolean): Promise<string> => {
    const { PolicyId } = await gaap.CreateSecurityPolicy({ ProxyId: proxyId, DefaultAction: 'ACCEPT' });
    if (open) await gaap.OpenSecurityPolicy({ PolicyId });
    return PolicyId;
  };
  let ruleSeq = 1;
  const securityRule = async (policyId: string): Promise<string> =>
    (await gaap.CreateSecurityRules({ PolicyId: policyId, RuleList: [{ SourceCidr: `10.0.0.${ruleSeq++}`, DestPortRange: '80', Protocol: 'TCP', Action: 'ACCEPT', AliasName: 'r' }] })).RuleIdList[0];
  const errorPage = async (listenerId: string, name: string): Promise<string> =>
    (await gaap.CreateDomainErrorPageInfo({ ListenerId: listenerId, Domain: name, ErrorNos: [404], Body: 'x' })).ErrorPageId;
  const httpsWithDomain = async (name: string): Promise<string> => {
    const l = await listener('HTTPS', w.proxy, port());
    await domain(l, name);
    return l;
  };

  const ids: Record<string, (p: Params) => Promise<Record<string, unknown>>> = {
    // Global domains and DNS records
    CreateGlobalDomainDns: async () => ({ DomainId: await globalDomain(), 'ProxyIdList.0': w.proxy }),
    DeleteGlobalDomain: async () => ({ DomainId: await globalDomain(true) }),
    DeleteGlobalDomainDns: async () => ({ DnsRecordId: await dnsRecord(await globalDomain(), '101001') }),
    DescribeGlobalDomainDns: async () => ({ DomainId: w.globalDomain }),
    DisableGlobalDomain: async () => ({ DomainId: await globalDomain() }),
    EnableGlobalDomain: async () => ({ DomainId: await globalDomain(true) }),
    ModifyGlobalDomainAttribute: async () => ({ DomainId: w.globalDomain }),
    ModifyGlobalDomainDns: async () => {
      const DomainId = await globalDomain();
      return { DomainId, DnsRecordId: String(await dnsRecord(DomainId, '102001')), 'ProxyIdList.0': w.proxy };
    },
    // Real servers
    DescribeRealServersStatus: async () => ({ 'RealServerIds.0': w.rs }),
    ModifyRealServerName: async () => ({ RealServerId: w.rs }),
    RemoveRealServers: async () => ({ 'RealServerIds.0': await realServer('10.1.1.1') }),
    BindListenerRealServers: async (p: any) => ({ ListenerId: w.tcp, 'RealServerBindSet.0.RealServerId': await findOrAddRealServer(p.RealServerBindSet[0].RealServerIP) }),
    // Listeners
    CreateHTTPListener: async () => ({ ProxyId: await proxy() }),
    CreateHTTPSListener: async () => ({ ProxyId: await proxy(), CertificateId: await serverCert() }),
    CreateTCPListeners: async () => ({ ProxyId: await proxy() }),
    CreateUDPListeners: async () => ({ ProxyId: await proxy() }),
    DeleteListeners: async () => ({ ProxyId: w.proxy, 'ListenerIds.0': await listener('TCP', w.proxy, port()) }),
    DescribeHTTPListeners: async () => ({ ProxyId: w.proxy }),
    DescribeHTTPSListeners: async () => ({ ProxyId: w.proxy }),
    DescribeListenerRealServers: async () => ({ ListenerId: w.tcp }),
    DescribeTCPListeners: async () => ({ ProxyId: w.proxy, ListenerId: w.tcp }),
    DescribeUDPListeners: async () => ({ ProxyId: w.proxy, ListenerId: w.udp }),
    ModifyHTTPListenerAttribute: async () => ({ ProxyId: w.proxy, ListenerId: w.http }),
    // The example sets client CA certificates: a listener with mutual authentication.
    ModifyHTTPSListenerAttribute: async () => {
      const ListenerId = (await gaap.CreateHTTPSListener({ ProxyId: w.proxy, ListenerName: 'mutual', Port: port(), CertificateId: await serverCert(), ForwardProtocol: 'HTTP', AuthType: 1, ClientCertificateId: w.clientCert })).ListenerId;
      return { ProxyId: w.proxy, ListenerId, CertificateId: await serverCert(), ClientCertificateId: w.clientCert, 'PolyClientCertificateIds.0': w.clientCert };
    },
    ModifyTCPListenerAttribute: async () => ({ ProxyId: w.proxy, ListenerId: w.tcp }),
    ModifyUDPListenerAttribute: async () => ({ ProxyId: w.proxy, ListenerId: w.udp }),
    SetTlsVersion: async () => ({ ListenerId: w.https }),
    // Domains, rules, headers, error pages (the examples' own domain names, prepared where needed)
    BindRuleRealServers: async (p: any) => ({ RuleId: w.rule, 'RealServerBindSet.0.RealServerId': await findOrAddRealServer(p.RealServerBindSet[0].RealServerIP) }),
    CreateCustomHeader: async () => ({ RuleId: w.rule }),
    CreateDomain: async () => ({ ListenerId: w.https, CertificateId: await serverCert() }),
    CreateDomainErrorPageInfo: async (p: any) => {
      await domain(w.http, p.Domain);
      return { ListenerId: w.http };
    },
    CreateRule: async (p: any) => {
      await domain(w.http, p.Domain);
      return { ListenerId: w.http };
    },
    DeleteDomain: async (p: any) => {
      const l = await listener('HTTP', w.proxy, port());
      await domain(l, p.Domain);
      return { ListenerId: l };
    },
    DeleteDomainErrorPageInfo: async () => ({ ErrorPageId: await errorPage(w.http, w.domain) }),
    DeleteRule: async () => {
      const l = await listener('HTTP', w.proxy, port());
      await domain(l, 'www.qq.com');
      return { ListenerId: l, RuleId: await rule(l, 'www.qq.com') };
    },
    DescribeCustomHeader: async () => ({ RuleId: w.rule }),
    DescribeDomainErrorPageInfo: async (p: any) => {
      await domain(w.http, p.Domain);
      return { ListenerId: w.http };
    },
    DescribeDomainErrorPageInfoByIds: async () => ({ 'ErrorPageIds.0': await errorPage(w.http, w.domain) }),
    DescribeRuleRealServers: async () => ({ RuleId: w.rule }),
    DescribeRules: async () => ({ ListenerId: w.http }),
    DescribeRulesByRuleIds: async () => ({ 'RuleIds.0': w.rule }),
    ModifyCertificate: async (p: any) => ({ ListenerId: await httpsWithDomain(p.Domain), CertificateId: await serverCert(), ClientCertificateId: w.clientCert }),
    ModifyDomain: async () => ({ ListenerId: w.https }),
    ModifyRuleAttribute: async (p: any) => {
      const l = await httpsWithDomain(p.CheckParams.Domain);
      return { ListenerId: l, RuleId: await rule(l, p.CheckParams.Domain) };
    },
    SetAuthentication: async (p: any) => ({ ListenerId: await httpsWithDomain(p.Domain), GaapCertificateId: await cert(4, pem.cert, pem.key) }),
    // Proxy groups
    CloseProxyGroup: async () => ({ GroupId: await group(true) }),
    CreateProxyGroupDomain: async () => ({ GroupId: await group(true) }),
    DeleteProxyGroup: async () => ({ GroupId: await group(false) }),
    DescribeGroupDomainConfig: async () => ({ GroupId: w.group }),
    DescribeProxyGroupDetails: async () => ({ GroupId: w.group }),
    ModifyGroupDomainConfig: async () => ({ GroupId: w.group }),
    ModifyProxyGroupAttribute: async () => ({ GroupId: w.group }),
    OpenProxyGroup: async () => {
      const GroupId = await group(true);
      await gaap.CloseProxyGroup({ GroupId });
      return { GroupId };
    },
    // Proxies and security
    CloseProxies: async () => ({ 'ProxyIds.0': await proxy() }),
    CloseSecurityPolicy: async () => {
      const ProxyId = await proxy();
      await policy(ProxyId, true);
      return { ProxyId };
    },
    CreateSecurityPolicy: async () => ({ ProxyId: await proxy() }),
    DeleteSecurityPolicy: async () => ({ PolicyId: await policy(await proxy(), false) }),
    DescribeProxiesStatus: async () => ({ 'ProxyIds.0': w.proxy }),
    DescribeProxyDetail: async () => ({ ProxyId: w.proxy }),
    DeleteSecurityRules: async () => ({ PolicyId: w.policy, 'RuleIdList.0': await securityRule(w.policy) }),
    DescribeSecurityPolicyDetail: async () => ({ PolicyId: w.policy }),
    DescribeSecurityRules: async () => ({ 'SecurityRuleIds.0': await securityRule(w.policy) }),
    DestroyProxies: async () => ({ 'ProxyIds.0': await proxy(), 'ProxyIds.1': await proxy() }),
    ModifyProxiesAttribute: async () => ({ 'ProxyIds.0': await proxy(), 'ProxyIds.1': await proxy() }),
    ModifyProxiesProject: async () => ({ 'ProxyIds.0': await proxy(), 'ProxyIds.1': await proxy() }),
    ModifyProxyConfiguration: async () => ({ ProxyId: await proxy() }),
    ModifySecurityRule: async () => ({ PolicyId: w.policy, RuleId: await securityRule(w.policy) }),
    OpenProxies: async () => {
      const a = await proxy();
      const b = await proxy();
      await gaap.CloseProxies({ ProxyIds: [a, b] });
      return { 'ProxyIds.0': a, 'ProxyIds.1': b };
    },
    OpenSecurityPolicy: async () => {
      const ProxyId = await proxy();
      await policy(ProxyId, false);
      return { ProxyId };
    },
    // Certificates
    DeleteCertificate: async () => ({ CertificateId: await cert(1, ca.cert) }),
    DescribeCertificateDetail: async () => ({ CertificateId: w.clientCert }),
    ModifyCertificateAttributes: async () => ({ CertificateId: w.clientCert }),
    // Statistics and tasks
    DescribeListenerStatistics: async () => ({ ListenerId: w.tcp }),
    DescribeProxyGroupStatistics: async () => ({ GroupId: w.group }),
    DescribeProxyStatistics: async () => ({ ProxyId: w.proxy }),
    DescribeRealServerStatistics: async () => ({ RealServerId: w.rs, ListenerId: w.tcp }),
    DescribeTaskStatus: async () => ({ TaskId: w.task }),
  };

  // ------------------------------------------------------------ the replay

  function substitute(params: Params, subs: Record<string, unknown>): Params {
    const out: Params = JSON.parse(JSON.stringify(params));
    for (const [path, value] of Object.entries(subs)) {
      const keys = path.split('.');
      let o: any = out;
      for (const k of keys.slice(0, -1)) o = o[k];
      o[keys[keys.length - 1]] = value;
    }
    return out;
  }

  it('accepts every request example of the document, ids substituted', async () => {
    const failures: string[] = [];
    for (const ex of examples as Example[]) {
      if (PLACEHOLDERS[ex.line]) continue;
      try {
        const subs = ids[ex.action] ? await ids[ex.action](ex.params) : {};
        await gaap[ex.action](substitute(ex.params, subs));
      } catch (e) {
        const err = e as { code?: string; message?: string };
        failures.push(`line ${ex.line} ${ex.action}: ${err.code ?? ''} ${err.message}`);
      }
    }
    assert.deepEqual(failures, []);
  });
});
