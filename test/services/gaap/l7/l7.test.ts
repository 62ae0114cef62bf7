import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../../src/server';
import { ACCOUNT_A, ACCOUNT_B, cnClient, errorCode, intlClient, MANUAL_TRANSITIONS, startTclocal } from '../../../helpers';
import { assertResponseShape } from '../../../support/response-shape';
import { selfSigned } from '../../../../testkit/pem';

const shape = <T extends Record<string, unknown>>(action: string, res: T): T => {
  assertResponseShape('gaap', action, res);
  return res;
};

interface World {
  proxyId: string;
  http: string;
  https: string;
  serverCert: string;
  otherServerCert: string;
  clientCert: string;
  basicCert: string;
  gaapCert: string;
  rsCert: string;
  rs1: { id: string; ip: string };
  rs2: { id: string; ip: string };
  rsDomain: { id: string; ip: string };
}

async function advance(server: RunningServer): Promise<void> {
  await fetch(server.url + '/_tclocal/transitions/advance', { method: 'POST' });
}

/** A running proxy with an HTTP (port 80) and an HTTPS (port 443) listener, certificates and real servers. */
async function buildWorld(gaap: any, server?: RunningServer): Promise<World> {
  const step = async () => {
    if (server) await advance(server);
  };
  const example = selfSigned('www.example.com', { sans: ['*.example.com', 'example.com'] });
  const other = selfSigned('other.test', { sans: ['other.test'] });
  const ca = selfSigned('Test CA', { sans: [] });
  const cert = async (type: number, content: string, key?: string, alias = `t${type}`) =>
    (await gaap.CreateCertificate({ CertificateType: type, CertificateContent: content, CertificateKey: key, CertificateAlias: alias })).CertificateId as string;
  const serverCert = await cert(2, encodeURIComponent(example.cert), encodeURIComponent(example.key), 'example');
  const otherServerCert = await cert(2, other.cert, other.key, 'other');
  const clientCert = await cert(1, ca.cert, undefined, 'client-ca');
  const basicCert = await cert(0, 'user:tx2KGdo3zJg/.', undefined, 'basic');
  const gaapCert = await cert(4, example.cert, example.key, 'gaap');
  const rsCert = await cert(3, ca.cert, undefined, 'rs-ca');
  const proxy = await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'l7', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 });
  await step();
  const http = (await gaap.CreateHTTPListener({ ProxyId: proxy.InstanceId, ListenerName: 'web', Port: 80 })).ListenerId;
  const https = (await gaap.CreateHTTPSListener({ ProxyId: proxy.InstanceId, ListenerName: 'tls', Port: 443, CertificateId: serverCert, ForwardProtocol: 'HTTP' })).ListenerId;
  await step();
  const rs = await gaap.AddRealServers({ RealServerIP: ['10.0.0.1', '10.0.0.2', 'origin.example.org'], RealServerName: 'origin', ProjectId: 0 });
  const [a, b, c] = rs.RealServerSet.map((x: any) => ({ id: x.RealServerId, ip: x.RealServerIP }));
  return { proxyId: proxy.InstanceId, http, https, serverCert, otherServerCert, clientCert, basicCert, gaapCert, rsCert, rs1: a, rs2: b, rsDomain: c };
}

const ruleBase = { Path: '/', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 1, CheckParams: { DelayLoop: 10, ConnectTimeout: 3, Path: '/health', Method: 'GET', StatusCode: [200, 300] } };

describe('GAAP L7: domains, rules, headers, error pages, authentication', () => {
  let server: RunningServer;
  let gaap: any;
  let w: World;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
    gaap = cnClient('gaap', server);
    w = await buildWorld(gaap);
  });
  after(async () => {
    await server.stop();
  });

  const domainOf = async (listenerId: string, domain: string) => {
    const res = shape('DescribeRules', await gaap.DescribeRules({ ListenerId: listenerId }));
    return res.DomainRuleSet.find((d: any) => d.Domain === domain);
  };

  it('creates an HTTP domain with the documented defaults', async () => {
    shape('CreateDomain', await gaap.CreateDomain({ ListenerId: w.http, Domain: 'www.qq.com', IsDefaultServer: false }));
    const res = shape('DescribeRules', await gaap.DescribeRules({ ListenerId: w.http }));
    assert.equal(res.TotalCount, 1);
    const d = res.DomainRuleSet[0];
    assert.equal(d.Domain, 'www.qq.com');
    assert.equal(d.DomainStatus, 0);
    assert.equal(d.CertificateId, 'default');
    assert.equal(d.ClientCertificateId, 'default');
    assert.deepEqual(d.PolyClientCertificateAliasInfo.map((x: any) => x.CertificateId), ['default']);
    assert.equal(d.BasicAuth, 0);
    assert.equal(d.RealServerAuth, 0);
    assert.equal(d.GaapAuth, 0);
    assert.equal(d.BanStatus, 'RECOVER');
    assert.equal(d.IsDefaultServer, false);
    assert.deepEqual(d.RuleSet, []);
    assert.equal(await errorCode(gaap.CreateDomain({ ListenerId: w.http, Domain: 'WWW.QQ.COM' })), 'FailedOperation.DomainAlreadyExisted');
    assert.equal(await errorCode(gaap.CreateDomain({ ListenerId: w.http, Domain: 'not a domain' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateDomain({ ListenerId: 'listener-nothere1', Domain: 'a.qq.com' })), 'ResourceNotFound');
  });

  it('refuses domains on TCP listeners', async () => {
    const tcp = await gaap.CreateTCPListeners({ ProxyId: w.proxyId, ListenerName: 'tcp', Ports: [9000], Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP' });
    assert.equal(await errorCode(gaap.CreateDomain({ ListenerId: tcp.ListenerIds[0], Domain: 'a.qq.com' })), 'FailedOperation.InvalidListenerProtocol');
  });

  it('checks that the HTTPS certificate covers the domain', async () => {
    await gaap.CreateDomain({ ListenerId: w.https, Domain: 'api.example.com' });
    let d = await domainOf(w.https, 'api.example.com');
    assert.equal(d.CertificateId, 'default');
    assert.equal(await errorCode(gaap.CreateDomain({ ListenerId: w.https, Domain: 'a.b.example.com' })), 'InvalidParameterValue.CertificateNotMatchDomain');
    assert.equal(await errorCode(gaap.CreateDomain({ ListenerId: w.https, Domain: 'www.qq.com' })), 'InvalidParameterValue.CertificateNotMatchDomain');
    assert.equal(await errorCode(gaap.CreateDomain({ ListenerId: w.https, Domain: 'shop.example.com', CertificateId: w.otherServerCert })), 'InvalidParameterValue.CertificateNotMatchDomain');
    assert.equal(await errorCode(gaap.CreateDomain({ ListenerId: w.https, Domain: 'shop.example.com', CertificateId: w.clientCert })), 'InvalidParameterValue');
    await gaap.CreateDomain({ ListenerId: w.https, Domain: 'other.test', CertificateId: w.otherServerCert, PolyClientCertificateIds: [w.clientCert] });
    d = await domainOf(w.https, 'other.test');
    assert.equal(d.CertificateId, w.otherServerCert);
    assert.equal(d.CertificateAlias, 'other');
    assert.equal(d.ClientCertificateId, w.clientCert);
    assert.deepEqual(d.PolyClientCertificateAliasInfo, [{ CertificateId: w.clientCert, CertificateAlias: 'client-ca' }]);
    // ModifyCertificate: back to the listener's certificate, which does not cover other.test
    assert.equal(await errorCode(gaap.ModifyCertificate({ ListenerId: w.https, Domain: 'other.test', CertificateId: 'default' })), 'InvalidParameterValue.CertificateNotMatchDomain');
    shape('ModifyCertificate', await gaap.ModifyCertificate({ ListenerId: w.https, Domain: 'api.example.com', CertificateId: w.serverCert, PolyClientCertificateIds: [w.clientCert] }));
    d = await domainOf(w.https, 'api.example.com');
    assert.equal(d.CertificateId, w.serverCert);
    assert.equal(d.CertificateAlias, 'example');
    assert.equal(d.ClientCertificateId, w.clientCert);
  });

  it('sets domain authentication and keeps the certificates in use', async () => {
    const bad = await errorCode(gaap.SetAuthentication({ ListenerId: w.https, Domain: 'api.example.com', BasicAuth: 1, BasicAuthConfId: w.gaapCert }));
    assert.equal(bad, 'InvalidParameterValue.InvalidCertificateId');
    assert.equal(await errorCode(gaap.SetAuthentication({ ListenerId: w.https, Domain: 'api.example.com', GaapAuth: 1 })), 'InvalidParameterValue.InvalidCertificateId');
    assert.equal(await errorCode(gaap.SetAuthentication({ ListenerId: w.http, Domain: 'www.qq.com', BasicAuth: 0 })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.SetAuthentication({ ListenerId: w.https, Domain: 'nothere.example.com' })), 'ResourceNotFound');
    shape(
      'SetAuthentication',
      await gaap.SetAuthentication({
        ListenerId: w.https,
        Domain: 'api.example.com',
        BasicAuth: 1,
        BasicAuthConfId: w.basicCert,
        GaapAuth: 1,
        GaapCertificateId: w.gaapCert,
        RealServerAuth: 1,
        PolyRealServerCertificateIds: [w.rsCert],
        RealServerCertificateDomain: 'origin.example.org',
        TLSSupportVersion: ['TLSv1.2', 'TLSv1.3'],
        TLSCiphers: 'GAAP_TLS_CIPHERS_STRICT',
      }),
    );
    const d = await domainOf(w.https, 'api.example.com');
    assert.equal(d.BasicAuth, 1);
    assert.equal(d.BasicAuthConfId, w.basicCert);
    assert.equal(d.BasicAuthConfAlias, 'basic');
    assert.equal(d.GaapAuth, 1);
    assert.equal(d.GaapCertificateAlias, 'gaap');
    assert.equal(d.RealServerAuth, 1);
    assert.equal(d.RealServerCertificateId, w.rsCert);
    assert.deepEqual(d.PolyRealServerCertificateAliasInfo, [{ CertificateId: w.rsCert, CertificateAlias: 'rs-ca' }]);
    assert.deepEqual(d.TLSSupportVersion, ['TLSv1.2', 'TLSv1.3']);
    assert.equal(d.TLSCiphers, 'GAAP_TLS_CIPHERS_STRICT');
    for (const id of [w.basicCert, w.gaapCert, w.rsCert, w.clientCert, w.serverCert]) {
      assert.equal(await errorCode(gaap.DeleteCertificate({ CertificateId: id })), 'FailedOperation.CertificateIsUsing', id);
    }
    // alias changes show through
    await gaap.ModifyCertificateAttributes({ CertificateId: w.basicCert, CertificateAlias: 'basic2' });
    assert.equal((await domainOf(w.https, 'api.example.com')).BasicAuthConfAlias, 'basic2');
  });

  it('sets the TLS versions of an HTTPS listener', async () => {
    shape('SetTlsVersion', await gaap.SetTlsVersion({ ListenerId: w.https, TLSSupportVersion: ['TLSv1.2'], TLSCiphers: 'GAAP_TLS_CIPHERS_GENERAL' }));
    const l = (await gaap.DescribeHTTPSListeners({ ListenerId: w.https })).ListenerSet[0];
    assert.deepEqual(l.TLSSupportVersion, ['TLSv1.2']);
    assert.equal(l.TLSCiphers, 'GAAP_TLS_CIPHERS_GENERAL');
    assert.equal(await errorCode(gaap.SetTlsVersion({ ListenerId: w.https, TLSSupportVersion: ['SSLv3'], TLSCiphers: 'GAAP_TLS_CIPHERS_GENERAL' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.SetTlsVersion({ ListenerId: w.https, TLSSupportVersion: ['TLSv1.2'], TLSCiphers: 'NONE' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.SetTlsVersion({ ListenerId: w.http, TLSSupportVersion: ['TLSv1.2'], TLSCiphers: 'GAAP_TLS_CIPHERS_WIDE' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.SetTlsVersion({ ListenerId: 'listener-nothere1', TLSSupportVersion: ['TLSv1.2'], TLSCiphers: 'GAAP_TLS_CIPHERS_WIDE' })), 'ResourceNotFound');
  });

  it("a rule without its own ForwardProtocol (none given, or `default`) follows the listener's as it changes; one that names it keeps it", async () => {
    await gaap.CreateDomain({ ListenerId: w.https, Domain: 'fp.example.com' });
    const rule = async (path: string, forwardProtocol?: string) =>
      (await gaap.CreateRule({ ListenerId: w.https, Domain: 'fp.example.com', ...ruleBase, Path: path, ...(forwardProtocol ? { ForwardProtocol: forwardProtocol } : {}) })).RuleId as string;
    const inherited = await rule('/inherited');
    const named = await rule('/named', 'HTTP');
    const reset = await rule('/reset', 'HTTPS');
    await gaap.ModifyRuleAttribute({ ListenerId: w.https, RuleId: reset, ForwardProtocol: 'default' });
    const protocols = async () => {
      const d = await domainOf(w.https, 'fp.example.com');
      const byId = (await gaap.DescribeRulesByRuleIds({ RuleIds: [inherited, named, reset] })).RuleSet;
      const described = Object.fromEntries(d.RuleSet.map((r: any) => [r.RuleId, r.ForwardProtocol]));
      assert.deepEqual(Object.fromEntries(byId.map((r: any) => [r.RuleId, r.ForwardProtocol])), described, 'both actions answer alike');
      return [described[inherited], described[named], described[reset]];
    };
    assert.deepEqual(await protocols(), ['HTTP', 'HTTP', 'HTTP']);
    const settle = async () => {
      for (let i = 0; i < 200 && (await gaap.DescribeHTTPSListeners({ ListenerId: w.https })).ListenerSet[0].ListenerStatus !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    };
    await settle();
    await gaap.ModifyHTTPSListenerAttribute({ ProxyId: w.proxyId, ListenerId: w.https, ForwardProtocol: 'HTTPS' });
    await settle();
    assert.deepEqual(await protocols(), ['HTTPS', 'HTTP', 'HTTPS']);
    await gaap.ModifyHTTPSListenerAttribute({ ProxyId: w.proxyId, ListenerId: w.https, ForwardProtocol: 'HTTP' });
    await settle();
    assert.deepEqual(await protocols(), ['HTTP', 'HTTP', 'HTTP']);
    for (const id of [inherited, named, reset]) await gaap.DeleteRule({ ListenerId: w.https, RuleId: id, Force: 1 });
  });

  it('creates, reads, modifies and binds rules', async () => {
    const { RuleId } = shape('CreateRule', await gaap.CreateRule({ ListenerId: w.http, Domain: 'www.qq.com', ...ruleBase, ForwardHost: 'default' }));
    assert.match(RuleId, /^rule-[a-z0-9]{8}$/);
    const byId = shape('DescribeRulesByRuleIds', await gaap.DescribeRulesByRuleIds({ RuleIds: [RuleId, 'rule-nothere1'] }));
    assert.equal(byId.TotalCount, 1);
    const r = byId.RuleSet[0];
    assert.equal(r.ListenerId, w.http);
    assert.equal(r.Domain, 'www.qq.com');
    assert.equal(r.Path, '/');
    assert.equal(r.RuleStatus, 0);
    assert.equal(r.BindStatus, 1);
    assert.equal(r.ForwardHost, 'default');
    assert.deepEqual(r.CheckParams.StatusCode, [200, 300]);
    assert.equal(r.CheckParams.Method, 'GET');
    assert.equal(r.ServerNameIndicationSwitch, 'OFF');
    assert.equal(await errorCode(gaap.CreateRule({ ListenerId: w.http, Domain: 'www.qq.com', ...ruleBase })), 'FailedOperation.RuleAlreadyExisted');
    assert.equal(await errorCode(gaap.CreateRule({ ListenerId: w.http, Domain: 'www.qq.com', ...ruleBase, Path: 'nope' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateRule({ ListenerId: w.http, Domain: 'www.qq.com', ...ruleBase, Path: '/x', Scheduler: 'random' })), 'InvalidParameterValue');
    assert.equal(
      await errorCode(gaap.CreateRule({ ListenerId: w.http, Domain: 'www.qq.com', ...ruleBase, Path: '/x', CheckParams: { ...ruleBase.CheckParams, StatusCode: [404] } })),
      'InvalidParameterValue',
    );
    assert.equal(await errorCode(gaap.CreateRule({ ListenerId: w.http, Domain: 'www.qq.com', ...ruleBase, Path: '/x', ServerNameIndicationSwitch: 'ON' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.DescribeRulesByRuleIds({ RuleIds: Array.from({ length: 11 }, (_, i) => `rule-${i}`) })), 'InvalidParameterValue');

    // the doc's URL-encoded path
    const img = await gaap.CreateRule({ ListenerId: w.http, Domain: 'www.qq.com', ...ruleBase, Path: '%2Fimage' });
    assert.equal((await gaap.DescribeRulesByRuleIds({ RuleIds: [img.RuleId] })).RuleSet[0].Path, '/image');
    assert.equal(await errorCode(gaap.ModifyRuleAttribute({ ListenerId: w.http, RuleId: RuleId, Path: '/image' })), 'FailedOperation.RuleAlreadyExisted');

    shape(
      'ModifyRuleAttribute',
      await gaap.ModifyRuleAttribute({
        ListenerId: w.http,
        RuleId,
        Scheduler: 'wrr',
        HealthCheck: 1,
        CheckParams: { DelayLoop: 39, ConnectTimeout: 4, Path: '/', Method: 'HEAD', StatusCode: [200], FailedCountInter: 60, FailedThreshold: 5, BlockInter: 600 },
        ForwardHost: 'origin.qq.com',
        ServerNameIndicationSwitch: '',
        ServerNameIndication: '',
      }),
    );
    const m = (await gaap.DescribeRulesByRuleIds({ RuleIds: [RuleId] })).RuleSet[0];
    assert.equal(m.Scheduler, 'wrr');
    assert.equal(m.CheckParams.DelayLoop, 39);
    assert.equal(m.CheckParams.FailedThreshold, 5);
    assert.equal(m.ForwardHost, 'origin.qq.com');
    assert.equal(await errorCode(gaap.ModifyRuleAttribute({ ListenerId: w.https, RuleId })), 'ResourceNotFound');
    assert.equal(await errorCode(gaap.ModifyRuleAttribute({ ListenerId: w.http, RuleId, CheckParams: { ...ruleBase.CheckParams, Domain: 'else.qq.com' } })), 'InvalidParameterValue');

    // binding real servers (full replacement)
    shape(
      'BindRuleRealServers',
      await gaap.BindRuleRealServers({
        RuleId,
        RealServerBindSet: [
          { RealServerId: w.rs1.id, RealServerIP: w.rs1.ip, RealServerPort: 80, RealServerWeight: 3 },
          { RealServerId: w.rs2.id, RealServerIP: w.rs2.ip, RealServerPort: 8080 },
        ],
      }),
    );
    const rs = shape('DescribeRuleRealServers', await gaap.DescribeRuleRealServers({ RuleId }));
    assert.equal(rs.BindRealServerTotalCount, 2);
    assert.deepEqual(
      rs.BindRealServerSet.map((b: any) => [b.RealServerId, b.RealServerPort, b.RealServerWeight, b.RealServerStatus]),
      [
        [w.rs1.id, 80, 3, 0],
        [w.rs2.id, 8080, 1, 0],
      ],
    );
    // bindable: the IP real servers, not the domain one
    assert.equal(rs.TotalCount, 2);
    assert.deepEqual(rs.RealServerSet.map((x: any) => x.RealServerId).sort(), [w.rs1.id, w.rs2.id].sort());
    const rule = (await gaap.DescribeRulesByRuleIds({ RuleIds: [RuleId] })).RuleSet[0];
    assert.equal(rule.RealServerSet.length, 2);
    assert.equal(
      await errorCode(gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: w.rs1.id, RealServerIP: '10.9.9.9', RealServerPort: 80 }] })),
      'InvalidParameterValue.RealServerNotBelong',
    );
    assert.equal(
      await errorCode(gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: 'rs-nothere1', RealServerIP: '10.0.0.1', RealServerPort: 80 }] })),
      'InvalidParameterValue.RealServerNotBelong',
    );
    assert.equal(
      await errorCode(gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: w.rsDomain.id, RealServerIP: w.rsDomain.ip, RealServerPort: 80 }] })),
      'InvalidParameterValue',
    );
    assert.equal(await errorCode(gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: w.rs1.id, RealServerIP: w.rs1.ip, RealServerPort: 0 }] })), 'InvalidParameterValue');
    // delete protection
    assert.equal(await errorCode(gaap.DeleteRule({ ListenerId: w.http, RuleId, Force: 0 })), 'FailedOperation.RealServerAlreadyBound');
    assert.equal(await errorCode(gaap.DeleteDomain({ ListenerId: w.http, Domain: 'www.qq.com', Force: 0 })), 'FailedOperation.RealServerAlreadyBound');
    // unbind all: no RealServerBindSet
    await gaap.BindRuleRealServers({ RuleId });
    assert.equal((await gaap.DescribeRuleRealServers({ RuleId })).BindRealServerTotalCount, 0);
    shape('DeleteRule', await gaap.DeleteRule({ ListenerId: w.http, RuleId, Force: 0 }));
    assert.equal((await gaap.DescribeRulesByRuleIds({ RuleIds: [RuleId] })).TotalCount, 0);
    assert.equal(await errorCode(gaap.DeleteRule({ ListenerId: w.http, RuleId, Force: 1 })), 'ResourceNotFound');
    assert.equal(await errorCode(gaap.DescribeRuleRealServers({ RuleId })), 'ResourceNotFound');
  });

  it('binds domain real servers to DOMAIN rules and pages the bindable list', async () => {
    const { RuleId } = await gaap.CreateRule({ ListenerId: w.http, Domain: 'www.qq.com', ...ruleBase, Path: '/dom', RealServerType: 'DOMAIN' });
    await gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: w.rsDomain.id, RealServerIP: w.rsDomain.ip, RealServerPort: 443 }] });
    const res = await gaap.DescribeRuleRealServers({ RuleId, Offset: 0, Limit: 1 });
    assert.equal(res.TotalCount, 1);
    assert.equal(res.RealServerSet[0].RealServerId, w.rsDomain.id);
    assert.equal(res.BindRealServerSet[0].RealServerIP, 'origin.example.org');
    const page = await gaap.DescribeRuleRealServers({ RuleId, Offset: 1, Limit: 1 });
    assert.equal(page.RealServerSet.length, 0);
    assert.equal(await errorCode(gaap.DescribeRuleRealServers({ RuleId, Limit: 1001 })), 'InvalidParameterValue');
    await gaap.DeleteRule({ ListenerId: w.http, RuleId, Force: 1 });
  });

  it('sets and clears custom headers, refusing black-listed names', async () => {
    const { RuleId } = await gaap.CreateRule({ ListenerId: w.http, Domain: 'www.qq.com', ...ruleBase, Path: '/headers' });
    shape(
      'CreateCustomHeader',
      await gaap.CreateCustomHeader({
        RuleId,
        Headers: [
          { HeaderName: 'HeaderName1', HeaderValue: 'HeaderValue1' },
          { HeaderName: 'X-Client-IP', HeaderValue: '$remote_addr' },
        ],
      }),
    );
    let res = shape('DescribeCustomHeader', await gaap.DescribeCustomHeader({ RuleId }));
    assert.equal(res.RuleId, RuleId);
    assert.deepEqual(res.Headers, [
      { HeaderName: 'HeaderName1', HeaderValue: 'HeaderValue1' },
      { HeaderName: 'X-Client-IP', HeaderValue: '$remote_addr' },
    ]);
    // replacement, not append
    await gaap.CreateCustomHeader({ RuleId, Headers: [{ HeaderName: 'HeaderName1', HeaderValue: 'v2' }] });
    res = await gaap.DescribeCustomHeader({ RuleId });
    assert.deepEqual(res.Headers, [{ HeaderName: 'HeaderName1', HeaderValue: 'v2' }]);
    const black = (await gaap.DescribeBlackHeader({})).BlackHeaders as string[];
    assert.ok(black.length > 0);
    for (const name of black) {
      assert.equal(await errorCode(gaap.CreateCustomHeader({ RuleId, Headers: [{ HeaderName: name, HeaderValue: 'x' }] })), 'InvalidParameterValue.HitBlacklist', name);
    }
    assert.equal(await errorCode(gaap.CreateCustomHeader({ RuleId, Headers: [{ HeaderName: black[0].toUpperCase(), HeaderValue: 'x' }] })), 'InvalidParameterValue.HitBlacklist');
    assert.equal(await errorCode(gaap.CreateCustomHeader({ RuleId, Headers: [{ HeaderName: 'bad name', HeaderValue: 'x' }] })), 'InvalidParameterValue');
    const many = Array.from({ length: 51 }, (_, i) => ({ HeaderName: `H${i}`, HeaderValue: 'v' }));
    assert.equal(await errorCode(gaap.CreateCustomHeader({ RuleId, Headers: many })), 'LimitExceeded');
    // clear: Headers omitted
    await gaap.CreateCustomHeader({ RuleId });
    assert.deepEqual((await gaap.DescribeCustomHeader({ RuleId })).Headers, []);
    assert.equal(await errorCode(gaap.DescribeCustomHeader({ RuleId: 'rule-nothere1' })), 'ResourceNotFound');
    assert.equal(await errorCode(gaap.CreateCustomHeader({ RuleId: 'rule-nothere1' })), 'ResourceNotFound');
  });

  it('manages domain error pages', async () => {
    const created = shape(
      'CreateDomainErrorPageInfo',
      await gaap.CreateDomainErrorPageInfo({ ListenerId: w.http, Domain: 'www.qq.com', ErrorNos: [404, 503], Body: 'bad request', NewErrorNo: 200, ClearHeaders: ['Content-Length', 'X-TEST'], SetHeaders: [{ HeaderName: 'X-TEST', HeaderValue: 'test' }] }),
    );
    assert.match(created.ErrorPageId, /^errorPage-[a-z0-9]{8}$/);
    const plain = await gaap.CreateDomainErrorPageInfo({ ListenerId: w.http, Domain: 'www.qq.com', ErrorNos: [400], Body: 'x' });
    const list = shape('DescribeDomainErrorPageInfo', await gaap.DescribeDomainErrorPageInfo({ ListenerId: w.http, Domain: 'www.qq.com' }));
    assert.equal(list.ErrorPageSet.length, 2);
    const first = list.ErrorPageSet.find((p: any) => p.ErrorPageId === created.ErrorPageId);
    assert.deepEqual(first, {
      ErrorPageId: created.ErrorPageId,
      ListenerId: w.http,
      Domain: 'www.qq.com',
      ErrorNos: [404, 503],
      NewErrorNo: 200,
      ClearHeaders: ['Content-Length', 'X-TEST'],
      SetHeaders: [{ HeaderName: 'X-TEST', HeaderValue: 'test' }],
      Body: 'bad request',
      Status: 0,
    });
    const byIds = shape('DescribeDomainErrorPageInfoByIds', await gaap.DescribeDomainErrorPageInfoByIds({ ErrorPageIds: [plain.ErrorPageId, 'errorPage-nothere1'] }));
    assert.equal(byIds.ErrorPageSet.length, 1);
    assert.equal(byIds.ErrorPageSet[0].NewErrorNo, 0);
    assert.deepEqual(byIds.ErrorPageSet[0].ClearHeaders, []);
    assert.equal(await errorCode(gaap.CreateDomainErrorPageInfo({ ListenerId: w.http, Domain: 'www.qq.com', ErrorNos: [503], Body: 'again' })), 'FailedOperation.DomainAlreadyExisted');
    assert.equal(await errorCode(gaap.CreateDomainErrorPageInfo({ ListenerId: w.http, Domain: 'nothere.qq.com', ErrorNos: [502], Body: 'x' })), 'ResourceNotFound');
    assert.equal(await errorCode(gaap.CreateDomainErrorPageInfo({ ListenerId: w.http, Domain: 'www.qq.com', ErrorNos: [42], Body: 'x' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.DescribeDomainErrorPageInfo({ ListenerId: 'listener-nothere1', Domain: 'www.qq.com' })), 'ResourceNotFound');
    assert.equal(await errorCode(gaap.DescribeDomainErrorPageInfoByIds({ ErrorPageIds: Array.from({ length: 11 }, (_, i) => `errorPage-${i}`) })), 'InvalidParameterValue');
    shape('DeleteDomainErrorPageInfo', await gaap.DeleteDomainErrorPageInfo({ ErrorPageId: plain.ErrorPageId }));
    assert.equal((await gaap.DescribeDomainErrorPageInfoByIds({ ErrorPageIds: [plain.ErrorPageId] })).ErrorPageSet.length, 0);
    assert.equal(await errorCode(gaap.DeleteDomainErrorPageInfo({ ErrorPageId: plain.ErrorPageId })), 'ResourceNotFound');
  });

  it('renames a domain with its rules and error pages, and keeps one default server', async () => {
    await gaap.CreateDomain({ ListenerId: w.http, Domain: 'old.qq.com', IsDefaultServer: true });
    const { RuleId } = await gaap.CreateRule({ ListenerId: w.http, Domain: 'old.qq.com', ...ruleBase });
    const page = await gaap.CreateDomainErrorPageInfo({ ListenerId: w.http, Domain: 'old.qq.com', ErrorNos: [500], Body: 'oops' });
    assert.equal(await errorCode(gaap.ModifyDomain({ ListenerId: w.http, OldDomain: 'old.qq.com', NewDomain: 'www.qq.com' })), 'FailedOperation.DomainAlreadyExisted');
    assert.equal(await errorCode(gaap.ModifyDomain({ ListenerId: w.http, OldDomain: 'nothere.qq.com', NewDomain: 'x.qq.com' })), 'ResourceNotFound');
    shape('ModifyDomain', await gaap.ModifyDomain({ ListenerId: w.http, OldDomain: 'old.qq.com', NewDomain: 'new.qq.com', CertificateId: 'default', PolyClientCertificateIds: ['default'], IsDefaultServer: true }));
    assert.equal(await domainOf(w.http, 'old.qq.com'), undefined);
    const d = await domainOf(w.http, 'new.qq.com');
    assert.equal(d.IsDefaultServer, true);
    assert.deepEqual(d.RuleSet.map((r: any) => [r.RuleId, r.Domain, r.CheckParams.Domain]), [[RuleId, 'new.qq.com', 'new.qq.com']]);
    const pages = await gaap.DescribeDomainErrorPageInfoByIds({ ErrorPageIds: [page.ErrorPageId] });
    assert.equal(pages.ErrorPageSet[0].Domain, 'new.qq.com');
    // another default server takes the flag
    await gaap.ModifyDomain({ ListenerId: w.http, OldDomain: 'www.qq.com', NewDomain: 'www.qq.com', IsDefaultServer: true });
    assert.equal((await domainOf(w.http, 'new.qq.com')).IsDefaultServer, false);
    assert.equal((await domainOf(w.http, 'www.qq.com')).IsDefaultServer, true);
    // Force delete cascades: rules, bound servers, error pages
    await gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: w.rs1.id, RealServerIP: w.rs1.ip, RealServerPort: 80 }] });
    assert.equal(await errorCode(gaap.DeleteDomain({ ListenerId: w.http, Domain: 'new.qq.com', Force: 0 })), 'FailedOperation.RealServerAlreadyBound');
    shape('DeleteDomain', await gaap.DeleteDomain({ ListenerId: w.http, Domain: 'new.qq.com', Force: 1 }));
    assert.equal(await domainOf(w.http, 'new.qq.com'), undefined);
    assert.equal((await gaap.DescribeRulesByRuleIds({ RuleIds: [RuleId] })).TotalCount, 0);
    assert.equal((await gaap.DescribeDomainErrorPageInfoByIds({ ErrorPageIds: [page.ErrorPageId] })).ErrorPageSet.length, 0);
    assert.equal(await errorCode(gaap.DeleteDomain({ ListenerId: w.http, Domain: 'new.qq.com', Force: 1 })), 'ResourceNotFound');
  });

  it('creates a rule domain on the fly and limits domains per listener', async () => {
    const { RuleId } = await gaap.CreateRule({ ListenerId: w.http, Domain: 'auto.qq.com', ...ruleBase });
    const d = await domainOf(w.http, 'auto.qq.com');
    assert.deepEqual(d.RuleSet.map((r: any) => r.RuleId), [RuleId]);
    const have = (await gaap.DescribeRules({ ListenerId: w.http })).TotalCount;
    for (let i = have; i < 100; i++) await gaap.CreateDomain({ ListenerId: w.http, Domain: `d${i}.qq.com` });
    assert.equal((await gaap.DescribeRules({ ListenerId: w.http })).TotalCount, 100);
    assert.equal(await errorCode(gaap.CreateDomain({ ListenerId: w.http, Domain: 'one-too-many.qq.com' })), 'LimitExceeded');
  });

  it('takes nested structures from the international SDK (v1 form encoding)', async () => {
    const intl = intlClient('gaap', server);
    const { RuleId } = shape('CreateRule', await intl.CreateRule({ ListenerId: w.http, Domain: 'www.qq.com', ...ruleBase, Path: '/intl' }));
    await intl.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: w.rs1.id, RealServerIP: w.rs1.ip, RealServerPort: 81, RealServerWeight: 2 }] });
    await intl.CreateCustomHeader({ RuleId, Headers: [{ HeaderName: 'X-A', HeaderValue: 'b' }] });
    // The international SDK's models predate RuleInfo.ForwardProtocol and drop it: the whole answer is checked as sent.
    shape('DescribeRulesByRuleIds', await gaap.DescribeRulesByRuleIds({ RuleIds: [RuleId] }));
    const r = (await intl.DescribeRulesByRuleIds({ RuleIds: [RuleId] })).RuleSet[0];
    assert.deepEqual(r.CheckParams.StatusCode, [200, 300]);
    assert.equal(r.CheckParams.Path, '/health');
    assert.deepEqual(r.RealServerSet.map((x: any) => [x.RealServerId, x.RealServerPort, x.RealServerWeight]), [[w.rs1.id, 81, 2]]);
    assert.deepEqual(JSON.parse(JSON.stringify((await intl.DescribeCustomHeader({ RuleId })).Headers)), [{ HeaderName: 'X-A', HeaderValue: 'b' }]);
    await intl.DeleteRule({ ListenerId: w.http, RuleId, Force: 1 });
  });

  it('keeps accounts apart', async () => {
    const a = cnClient('gaap', server, { account: ACCOUNT_A });
    const b = cnClient('gaap', server, { account: ACCOUNT_B });
    const wa = await buildWorld(a);
    await a.CreateDomain({ ListenerId: wa.http, Domain: 'a.qq.com' });
    const { RuleId } = await a.CreateRule({ ListenerId: wa.http, Domain: 'a.qq.com', ...ruleBase });
    const page = await a.CreateDomainErrorPageInfo({ ListenerId: wa.http, Domain: 'a.qq.com', ErrorNos: [404], Body: 'x' });
    assert.equal(await errorCode(b.DescribeRules({ ListenerId: wa.http })), 'ResourceNotFound');
    assert.equal(await errorCode(b.CreateDomain({ ListenerId: wa.http, Domain: 'b.qq.com' })), 'ResourceNotFound');
    assert.equal((await b.DescribeRulesByRuleIds({ RuleIds: [RuleId] })).TotalCount, 0);
    assert.equal(await errorCode(b.DescribeCustomHeader({ RuleId })), 'ResourceNotFound');
    assert.equal(await errorCode(b.DeleteRule({ ListenerId: wa.http, RuleId, Force: 1 })), 'ResourceNotFound');
    assert.equal((await b.DescribeDomainErrorPageInfoByIds({ ErrorPageIds: [page.ErrorPageId] })).ErrorPageSet.length, 0);
    assert.equal((await a.DescribeRulesByRuleIds({ RuleIds: [RuleId] })).TotalCount, 1);
  });
});

describe('GAAP L7 transient statuses', () => {
  let server: RunningServer;
  let gaap: any;
  let w: World;
  before(async () => {
    server = await startTclocal({ ...MANUAL_TRANSITIONS, rateLimits: false });
    gaap = cnClient('gaap', server);
    w = await buildWorld(gaap, server);
  });
  after(async () => {
    await server.stop();
  });

  it('domain changes take effect within the call; rules are creating/binding/changing/deleting until the transition is applied', async () => {
    await gaap.CreateDomain({ ListenerId: w.http, Domain: 'www.qq.com' });
    let d = (await gaap.DescribeRules({ ListenerId: w.http })).DomainRuleSet[0];
    assert.equal(d.DomainStatus, 0);
    await gaap.ModifyDomain({ ListenerId: w.http, OldDomain: 'www.qq.com', NewDomain: 'x.qq.com' });
    await gaap.ModifyDomain({ ListenerId: w.http, OldDomain: 'x.qq.com', NewDomain: 'www.qq.com' });
    d = (await gaap.DescribeRules({ ListenerId: w.http })).DomainRuleSet[0];
    assert.equal(d.DomainStatus, 0);

    const { RuleId } = await gaap.CreateRule({ ListenerId: w.http, Domain: 'www.qq.com', ...ruleBase });
    const status = async () => (await gaap.DescribeRulesByRuleIds({ RuleIds: [RuleId] })).RuleSet[0]?.RuleStatus;
    assert.equal(await status(), 1);
    assert.equal(await errorCode(gaap.ModifyRuleAttribute({ ListenerId: w.http, RuleId, Scheduler: 'lc' })), 'FailedOperation.ListenerHasTask');
    assert.equal(await errorCode(gaap.BindRuleRealServers({ RuleId })), 'FailedOperation.ListenerHasTask');
    await advance(server);
    assert.equal(await status(), 0);
    await gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: w.rs1.id, RealServerIP: w.rs1.ip, RealServerPort: 80 }] });
    assert.equal(await status(), 3);
    assert.equal(await errorCode(gaap.DeleteRule({ ListenerId: w.http, RuleId, Force: 1 })), 'FailedOperation.ListenerHasTask');
    await advance(server);
    assert.equal(await status(), 0);
    await gaap.ModifyRuleAttribute({ ListenerId: w.http, RuleId, Scheduler: 'lc' });
    assert.equal(await status(), 4);
    await advance(server);
    assert.equal(await status(), 0);
    await gaap.DeleteRule({ ListenerId: w.http, RuleId, Force: 1 });
    assert.equal(await status(), 2);
    await advance(server);
    assert.equal(await status(), undefined);

    await gaap.DeleteDomain({ ListenerId: w.http, Domain: 'www.qq.com', Force: 0 });
    d = (await gaap.DescribeRules({ ListenerId: w.http })).DomainRuleSet[0];
    assert.equal(d.DomainStatus, 2);
    assert.equal(await errorCode(gaap.ModifyDomain({ ListenerId: w.http, OldDomain: 'www.qq.com', NewDomain: 'x.qq.com' })), 'FailedOperation.DomainStatusNotInRunning');
    assert.equal(await errorCode(gaap.DeleteDomain({ ListenerId: w.http, Domain: 'www.qq.com', Force: 1 })), 'FailedOperation.DomainStatusNotInRunning');
    await advance(server);
    assert.equal((await gaap.DescribeRules({ ListenerId: w.http })).TotalCount, 0);
  });

  it('refuses L7 writes on a busy listener or a proxy that is not running', async () => {
    const { ListenerId } = await gaap.CreateHTTPListener({ ProxyId: w.proxyId, ListenerName: 'new', Port: 8080 });
    assert.equal(await errorCode(gaap.CreateDomain({ ListenerId, Domain: 'busy.qq.com' })), 'FailedOperation.ListenerHasTask');
    assert.equal(await errorCode(gaap.CreateRule({ ListenerId, Domain: 'busy.qq.com', ...ruleBase })), 'FailedOperation.ListenerHasTask');
    await advance(server);
    await gaap.CreateDomain({ ListenerId, Domain: 'busy.qq.com' });
    await advance(server);
    await gaap.CloseProxies({ ProxyIds: [w.proxyId] });
    assert.equal(await errorCode(gaap.CreateDomain({ ListenerId, Domain: 'closed.qq.com' })), 'FailedOperation.InstanceStatusNotInRuning');
    assert.equal(await errorCode(gaap.CreateRule({ ListenerId, Domain: 'busy.qq.com', ...ruleBase })), 'FailedOperation.InstanceStatusNotInRuning');
    assert.equal(await errorCode(gaap.CreateDomainErrorPageInfo({ ListenerId, Domain: 'busy.qq.com', ErrorNos: [404], Body: 'x' })), 'FailedOperation.ProxyStatusNotInRuning');
    // reads still work
    assert.equal((await gaap.DescribeRules({ ListenerId })).TotalCount, 1);
  });
});
