/**
 * Rules that several GAAP actions share are checked in one place; these
 * tests pin the one behaviour every action now has (TLS settings, real-server
 * bindings, health-check timing, tag sets, paging) where the actions used to
 * disagree.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../src/server';
import { cnClient, errorCode, startTclocal } from '../../helpers';
import { selfSigned } from '../../../testkit/pem';

describe('GAAP: one check for each shared rule', () => {
  let server: RunningServer;
  let gaap: any;
  let proxyId: string;
  let http: string;
  let https: string;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
    gaap = cnClient('gaap', server);
    const cert = selfSigned('www.example.com', { sans: ['*.example.com', 'example.com'] });
    const certId = (await gaap.CreateCertificate({ CertificateType: 2, CertificateContent: cert.cert, CertificateKey: cert.key, CertificateAlias: 'web' })).CertificateId;
    proxyId = (await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'unified', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 })).InstanceId;
    http = (await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'web', Port: 80 })).ListenerId;
    https = (await gaap.CreateHTTPSListener({ ProxyId: proxyId, ListenerName: 'tls', Port: 443, CertificateId: certId, ForwardProtocol: 'HTTP' })).ListenerId;
  });
  after(async () => {
    await server.stop();
  });

  it('SetTlsVersion and the domain-level TLS settings accept the same spellings and store the same order', async () => {
    // The listener takes `TLSv1.0` for TLSv1 and the SDK's misspelt cipher profile, as the domain settings always did.
    await gaap.SetTlsVersion({ ListenerId: https, TLSSupportVersion: ['TLSv1.2', 'TLSv1.0', 'TLSv1.2'], TLSCiphers: 'GAAPTLS_CIPHERS_STRICT' });
    const l = (await gaap.DescribeHTTPSListeners({ ListenerId: https })).ListenerSet[0];
    assert.deepEqual(l.TLSSupportVersion, ['TLSv1', 'TLSv1.2']);
    assert.equal(l.TLSCiphers, 'GAAP_TLS_CIPHERS_STRICT');
    // A domain stores its versions oldest first, as the listener always did.
    await gaap.CreateDomain({ ListenerId: https, Domain: 'tls.example.com', CertificateId: 'default' });
    await gaap.SetAuthentication({ ListenerId: https, Domain: 'tls.example.com', TLSSupportVersion: ['TLSv1.3', 'TLSv1.2'], TLSCiphers: 'GAAPTLS_CIPHERS_GENERAL' });
    const d = (await gaap.DescribeRules({ ListenerId: https })).DomainRuleSet.find((x: any) => x.Domain === 'tls.example.com');
    assert.deepEqual(d.TLSSupportVersion, ['TLSv1.2', 'TLSv1.3']);
    assert.equal(d.TLSCiphers, 'GAAP_TLS_CIPHERS_GENERAL');
    for (const call of [
      () => gaap.SetTlsVersion({ ListenerId: https, TLSSupportVersion: [], TLSCiphers: 'GAAP_TLS_CIPHERS_WIDE' }),
      () => gaap.SetAuthentication({ ListenerId: https, Domain: 'tls.example.com', TLSSupportVersion: [] }),
      () => gaap.SetAuthentication({ ListenerId: https, Domain: 'tls.example.com', TLSSupportVersion: ['SSLv3'] }),
    ]) assert.equal(await errorCode(call()), 'InvalidParameterValue');
  });

  it('listeners and rules bind real servers by the same rules', async () => {
    const rs = (await gaap.AddRealServers({ RealServerIP: ['Origin.Example.org', '10.1.0.1'], RealServerName: 'o', ProjectId: 0 })).RealServerSet;
    const domainRs = rs.find((x: any) => x.RealServerIP === 'Origin.Example.org');
    const ipRs = rs.find((x: any) => x.RealServerIP === '10.1.0.1');
    const tcp = (await gaap.CreateTCPListeners({ ProxyId: proxyId, ListenerName: 'tcp', Ports: [9000], Scheduler: 'rr', RealServerType: 'DOMAIN', HealthCheck: 0 })).ListenerIds[0];
    const { RuleId } = await gaap.CreateRule({ ListenerId: http, Domain: 'www.example.com', Path: '/', RealServerType: 'DOMAIN', Scheduler: 'rr', HealthCheck: 0 });
    // An address in another case names the same origin, and an empty role is no role, for both.
    const entry = { RealServerId: domainRs.RealServerId, RealServerIP: 'origin.example.org', RealServerPort: 8080, RealServerFailoverRole: '' };
    await gaap.BindListenerRealServers({ ListenerId: tcp, RealServerBindSet: [entry] });
    await gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [entry] });
    const bound = (await gaap.DescribeTCPListeners({ ListenerId: tcp })).ListenerSet[0].RealServerSet[0];
    assert.equal(bound.RealServerIP, 'Origin.Example.org');
    assert.equal(bound.RealServerFailoverRole, '');
    const ruleBound = (await gaap.DescribeRuleRealServers({ RuleId })).BindRealServerSet[0];
    assert.equal(ruleBound.RealServerIP, 'Origin.Example.org');
    // The same faults fail both (only the code of a wrong address differs, as each action documents).
    for (const bad of [
      { ...entry, RealServerPort: 0 },
      { ...entry, RealServerWeight: 101 },
      { ...entry, RealServerFailoverRole: 'backup' },
      { ...entry, RealServerId: ipRs.RealServerId, RealServerIP: '10.1.0.1' },
    ]) {
      assert.equal(await errorCode(gaap.BindListenerRealServers({ ListenerId: tcp, RealServerBindSet: [bad] })), 'InvalidParameterValue', JSON.stringify(bad));
      assert.equal(await errorCode(gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [bad] })), 'InvalidParameterValue', JSON.stringify(bad));
    }
    assert.equal(await errorCode(gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [entry, entry] })), 'InvalidParameterValue');
  });

  it('a rule health check, like a listener one, may not time out after its next probe', async () => {
    const base = { ListenerId: http, Domain: 'health.example.com', RealServerType: 'IP', Scheduler: 'rr' };
    const slow = { DelayLoop: 5, ConnectTimeout: 10 };
    const check = { Path: '/', Method: 'HEAD', StatusCode: [200] };
    assert.equal(await errorCode(gaap.CreateRule({ ...base, Path: '/a', HealthCheck: 1, CheckParams: { ...check, ...slow } })), 'InvalidParameterValue');
    assert.equal(
      await errorCode(gaap.CreateTCPListeners({ ProxyId: proxyId, ListenerName: 'h', Ports: [9100], Scheduler: 'rr', RealServerType: 'IP', HealthCheck: 1, ...slow })),
      'InvalidParameterValue',
    );
    // With checks off the timing is only kept, as for listeners.
    const { RuleId } = await gaap.CreateRule({ ...base, Path: '/b', HealthCheck: 0, CheckParams: { ...check, ...slow } });
    assert.ok(RuleId);
    assert.equal(await errorCode(gaap.CreateRule({ ...base, Path: '/c', HealthCheck: 1, CheckParams: { ...check, DelayLoop: 301, ConnectTimeout: 2 } })), 'InvalidParameterValue');
  });

  it('every create action checks a TagSet the same way, with the codes it documents', async () => {
    // Surrounding spaces of a key are dropped by every resource.
    const rs = (await gaap.AddRealServers({ RealServerIP: ['10.2.0.1'], RealServerName: 't', ProjectId: 0, TagSet: [{ TagKey: ' env ', TagValue: 'prod' }] })).RealServerSet[0];
    const listed = (await gaap.DescribeRealServers({ ProjectId: 0, SearchValue: '10.2.0.1' })).RealServerSet[0];
    assert.equal(listed.RealServerId, rs.RealServerId);
    assert.deepEqual(listed.TagSet.map((t: any) => ({ ...t })), [{ TagKey: 'env', TagValue: 'prod' }]);
    const twice = [{ TagKey: 'a', TagValue: '1' }, { TagKey: 'a', TagValue: '2' }];
    const many = Array.from({ length: 51 }, (_, i) => ({ TagKey: `k${i}`, TagValue: 'v' }));
    assert.equal(await errorCode(gaap.AddRealServers({ RealServerIP: ['10.2.0.2'], RealServerName: 't', ProjectId: 0, TagSet: twice })), 'InvalidParameterValue.InvalidTags');
    assert.equal(await errorCode(gaap.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '1.1.1.1', TagSet: twice })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.AddRealServers({ RealServerIP: ['10.2.0.2'], RealServerName: 't', ProjectId: 0, TagSet: many })), 'LimitExceeded.TagQuota');
    assert.equal(await errorCode(gaap.CreateProxyGroup({ ProjectId: 0, GroupName: 'g', RealServerRegion: 'Beijing', TagSet: many })), 'LimitExceeded.TagQuota');
  });

  it('paging refuses a negative Offset and a Limit out of the documented range alike', async () => {
    for (const call of [
      () => gaap.DescribeRealServers({ ProjectId: 0, Limit: 51 }),
      () => gaap.DescribeProxies({ Limit: 101 }),
      () => gaap.DescribeCertificates({ Limit: 1001 }),
      () => gaap.DescribeGlobalDomains({ ProjectId: -1, Offset: -1, Limit: 10 }),
      () => gaap.DescribeTCPListeners({ ProxyId: proxyId, Offset: -1 }),
    ]) assert.equal(await errorCode(call()), 'InvalidParameterValue');
    assert.equal((await gaap.DescribeRealServers({ ProjectId: 0, Limit: 50 })).RealServerSet.length > 0, true);
  });
});
