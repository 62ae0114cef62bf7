import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../../src/server';
import { ACCOUNT_A, ACCOUNT_B, advance, cnClient, errorCode, MANUAL_TRANSITIONS, startTclocal } from '../../../helpers';
import { assertResponseShape } from '../../../support/response-shape';
import { selfSigned } from '../../../../testkit/pem';

async function createProxy(gaap: any, name = 'listener-test'): Promise<string> {
  const res = await gaap.CreateProxy({ ProjectId: 0, ProxyName: name, AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 });
  return res.InstanceId;
}

const tcpBase = { ListenerName: 'tcp', Scheduler: 'rr', HealthCheck: 1, RealServerType: 'IP', DelayLoop: 10, ConnectTimeout: 3 };

describe('GAAP listeners', () => {
  let server: RunningServer;
  let gaap: any;
  let proxyId: string;
  let serverCert: string;
  let clientCert: string;

  before(async () => {
    server = await startTclocal({ rateLimits: false });
    gaap = cnClient('gaap', server);
    proxyId = await createProxy(gaap);
    const s = selfSigned('www.example.com');
    const c = selfSigned('ca.example.com');
    serverCert = (await gaap.CreateCertificate({ CertificateType: 2, CertificateContent: s.cert, CertificateKey: s.key, CertificateAlias: 'srv' })).CertificateId;
    clientCert = (await gaap.CreateCertificate({ CertificateType: 1, CertificateContent: c.cert, CertificateAlias: 'ca' })).CertificateId;
  });
  after(async () => {
    await server.stop();
  });

  it('creates one TCP listener per port and describes them running', async () => {
    const res = await gaap.CreateTCPListeners({ ...tcpBase, ProxyId: proxyId, Ports: [1001, 1002, 1003], ClientIPMethod: 1 });
    assertResponseShape('gaap', 'CreateTCPListeners', res);
    assert.equal(res.ListenerIds.length, 3);
    assert.match(res.ListenerIds[0], /^listener-[a-z0-9]{8}$/);
    const list = await gaap.DescribeTCPListeners({ ProxyId: proxyId });
    assertResponseShape('gaap', 'DescribeTCPListeners', list);
    assert.equal(list.TotalCount, 3);
    const l = list.ListenerSet.find((x: any) => x.ListenerId === res.ListenerIds[1]);
    assert.equal(l.Port, 1002);
    assert.equal(l.Protocol, 'TCP');
    assert.equal(l.ListenerStatus, 0);
    assert.equal(l.ProxyId, proxyId);
    assert.equal(l.Scheduler, 'rr');
    assert.equal(l.DelayLoop, 10);
    assert.equal(l.ConnectTimeout, 3);
    assert.equal(l.HealthCheck, 1);
    assert.equal(l.ClientIPMethod, 1);
    assert.equal(l.BindStatus, 1);
    assert.deepEqual(l.RealServerSet, []);
    assert.ok(Math.abs(l.CreateTime - Date.now() / 1000) < 60);
    // Tasks: the call's RequestId.
    const task = await gaap.DescribeTaskStatus({ TaskId: res.RequestId });
    assert.equal(task.Status, 'SUCCESS');
  });

  it('keeps one TCP port space (TCP/HTTP/HTTPS) and one UDP port space per proxy', async () => {
    assert.equal(await errorCode(gaap.CreateHTTPListener({ ListenerName: 'h', Port: 1001, ProxyId: proxyId })), 'InvalidParameterValue.DuplicatedListenerPort');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...tcpBase, ProxyId: proxyId, Ports: [1004, 1002] })), 'InvalidParameterValue.DuplicatedListenerPort');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...tcpBase, ProxyId: proxyId, Ports: [1005, 1005] })), 'InvalidParameterValue.DuplicatedListenerPort');
    // nothing of the refused batch was created
    assert.equal((await gaap.DescribeTCPListeners({ ProxyId: proxyId, Port: 1004 })).TotalCount, 0);
    const udp = await gaap.CreateUDPListeners({ ListenerName: 'u', Ports: [1001], Scheduler: 'rr', RealServerType: 'IP', ProxyId: proxyId });
    assertResponseShape('gaap', 'CreateUDPListeners', udp);
    assert.equal(await errorCode(gaap.CreateUDPListeners({ ListenerName: 'u', Ports: [1001], Scheduler: 'rr', RealServerType: 'IP', ProxyId: proxyId })), 'InvalidParameterValue.DuplicatedListenerPort');
    // HTTP/3 on an HTTPS listener also takes the UDP port
    assert.equal(
      await errorCode(gaap.CreateHTTPSListener({ ListenerName: 's', Port: 1001, ProxyId: proxyId, CertificateId: serverCert, ForwardProtocol: 'HTTP', Http3Supported: 1 })),
      'InvalidParameterValue.DuplicatedListenerPort',
    );
    const h3 = await gaap.CreateHTTPSListener({ ListenerName: 's3', Port: 1443, ProxyId: proxyId, CertificateId: serverCert, ForwardProtocol: 'HTTPS', Http3Supported: 1 });
    assert.equal(await errorCode(gaap.CreateUDPListeners({ ListenerName: 'u', Ports: [1443], Scheduler: 'rr', RealServerType: 'IP', ProxyId: proxyId })), 'InvalidParameterValue.DuplicatedListenerPort');
    const only3 = await gaap.DescribeHTTPSListeners({ ProxyId: proxyId, Http3Supported: 1 });
    assertResponseShape('gaap', 'DescribeHTTPSListeners', only3);
    assert.deepEqual(only3.ListenerSet.map((x: any) => x.ListenerId), [h3.ListenerId]);
    assert.equal((await gaap.DescribeHTTPSListeners({ ProxyId: proxyId, Http3Supported: 0 })).TotalCount, 0);
  });

  it('validates ports, owner, scheduler and health-check ranges', async () => {
    const p = { ...tcpBase, ProxyId: proxyId };
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: [0] })), 'InvalidParameterValue.InvalidListenerPort');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: [65536] })), 'InvalidParameterValue.InvalidListenerPort');
    assert.equal(await errorCode(gaap.CreateHTTPListener({ ListenerName: 'h', Port: 70000, ProxyId: proxyId })), 'InvalidParameterValue.InvalidListenerPort');
    const many = Array.from({ length: 21 }, (_, i) => 3000 + i);
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: many })), 'FailedOperation.OperateLimitNumofListener');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: [2001], DelayLoop: 4 })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: [2001], DelayLoop: 301 })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: [2001], ConnectTimeout: 1 })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: [2001], ConnectTimeout: 61, DelayLoop: 100 })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: [2001], ConnectTimeout: 11, DelayLoop: 10 })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: [2001], HealthyThreshold: 11 })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: [2001], UnhealthyThreshold: 0 })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: [2001], Scheduler: 'random' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: [2001], RealServerType: 'HOST' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: [2001], RealServerType: 'DOMAIN', Scheduler: 'wrr' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: [2001], RealServerType: 'DOMAIN', FailoverSwitch: 1 })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: [2001], RealServerPorts: [80] })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, Ports: [2001], ListenerName: 'x'.repeat(31) })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...tcpBase, Ports: [2001] })), 'MissingParameter');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...p, GroupId: 'lg-abcdefgh', Ports: [2001] })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...tcpBase, ProxyId: 'link-00000000', Ports: [2001] })), 'ResourceNotFound');
    assert.equal(await errorCode(gaap.CreateHTTPListener({ ListenerName: 'h', Port: 2001, ProxyId: 'link-00000000' })), 'ResourceNotFound');
    // health-check relation is only checked when health checks are on
    const off = await gaap.CreateTCPListeners({ ...p, Ports: [2002], HealthCheck: 0, ConnectTimeout: 20, DelayLoop: 20 });
    assert.equal(off.ListenerIds.length, 1);
  });

  it('filters Describe calls by name, port, search value, id and pages them', async () => {
    const ids = (await gaap.CreateTCPListeners({ ...tcpBase, ListenerName: 'pageme', ProxyId: proxyId, Ports: [4001, 4002, 4003, 4004, 4005] })).ListenerIds;
    const byName = await gaap.DescribeTCPListeners({ ProxyId: proxyId, ListenerName: 'pageme', Limit: 2, Offset: 1 });
    assert.equal(byName.TotalCount, 5);
    assert.deepEqual(byName.ListenerSet.map((x: any) => x.ListenerId), ids.slice(1, 3));
    assert.equal((await gaap.DescribeTCPListeners({ ProxyId: proxyId, ListenerName: 'pagem' })).TotalCount, 0);
    assert.equal((await gaap.DescribeTCPListeners({ ProxyId: proxyId, Port: 4003 })).ListenerSet[0].ListenerId, ids[2]);
    const search = await gaap.DescribeTCPListeners({ ProxyId: proxyId, SearchValue: 'ageM'.toLowerCase() });
    assert.equal(search.TotalCount, 5);
    const byPort = await gaap.DescribeTCPListeners({ ProxyId: proxyId, SearchValue: '400', Limit: 3 });
    assert.equal(byPort.TotalCount, 5);
    assert.equal(byPort.ListenerSet.length, 3);
    assert.equal(await errorCode(gaap.DescribeTCPListeners({ ProxyId: proxyId, SearchValue: '4', Port: 4001 })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.DescribeTCPListeners({})), 'MissingParameter');
    assert.equal(await errorCode(gaap.DescribeTCPListeners({ ProxyId: 'link-00000000' })), 'ResourceNotFound');
    assert.equal(await errorCode(gaap.DescribeTCPListeners({ ProxyId: proxyId, Offset: -1 })), 'InvalidParameterValue');
    const one = await gaap.DescribeTCPListeners({ ListenerId: ids[0] });
    assert.equal(one.TotalCount, 1);
    // a listener id of another protocol, or unknown, is an empty result
    const asUdp = await gaap.DescribeUDPListeners({ ListenerId: ids[0] });
    assertResponseShape('gaap', 'DescribeUDPListeners', asUdp);
    assert.equal(asUdp.TotalCount, 0);
    assert.equal((await gaap.DescribeTCPListeners({ ListenerId: 'listener-00000000' })).TotalCount, 0);
    // with an owner, the listener must belong to it
    const other = await createProxy(gaap, 'other');
    assert.equal(await errorCode(gaap.DescribeTCPListeners({ ProxyId: other, ListenerId: ids[0] })), 'InvalidParameterValue');
  });

  it('modifies a TCP listener through the changing status and checks merged health values', async () => {
    const [id] = (await gaap.CreateTCPListeners({ ...tcpBase, ProxyId: proxyId, Ports: [5001] })).ListenerIds;
    const res = await gaap.ModifyTCPListenerAttribute({ ProxyId: proxyId, ListenerId: id, ListenerName: 'renamed', Scheduler: 'wrr', DelayLoop: 30, ConnectTimeout: 20, HealthyThreshold: 4, FailoverSwitch: 1 });
    assertResponseShape('gaap', 'ModifyTCPListenerAttribute', res);
    const [l] = (await gaap.DescribeTCPListeners({ ListenerId: id })).ListenerSet;
    assert.equal(l.ListenerName, 'renamed');
    assert.equal(l.Scheduler, 'wrr');
    assert.equal(l.DelayLoop, 30);
    assert.equal(l.ConnectTimeout, 20);
    assert.equal(l.HealthyThreshold, 4);
    assert.equal(l.UnhealthyThreshold, 1);
    assert.equal(l.FailoverSwitch, 1);
    assert.equal(l.ListenerStatus, 0);
    // ConnectTimeout 20 against a new DelayLoop of 15
    assert.equal(await errorCode(gaap.ModifyTCPListenerAttribute({ ProxyId: proxyId, ListenerId: id, DelayLoop: 15 })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.ModifyTCPListenerAttribute({ ListenerId: id, ListenerName: 'x' })), 'MissingParameter');
    const other = await createProxy(gaap, 'other2');
    assert.equal(await errorCode(gaap.ModifyTCPListenerAttribute({ ProxyId: other, ListenerId: id, ListenerName: 'x' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.ModifyTCPListenerAttribute({ ProxyId: proxyId, ListenerId: 'listener-00000000' })), 'ResourceNotFound');
    const [udp] = (await gaap.CreateUDPListeners({ ListenerName: 'u', Ports: [5001], Scheduler: 'rr', RealServerType: 'IP', ProxyId: proxyId })).ListenerIds;
    assert.equal(await errorCode(gaap.ModifyTCPListenerAttribute({ ProxyId: proxyId, ListenerId: udp, ListenerName: 'x' })), 'InvalidParameterValue');
  });

  it('creates and modifies UDP listeners with PING and PORT probes', async () => {
    const res = await gaap.CreateUDPListeners({
      ListenerName: 'udp', Ports: [6001, 6002], Scheduler: 'lc', RealServerType: 'IP', ProxyId: proxyId,
      HealthCheck: 1, CheckType: 'PORT', CheckPort: 7000, ContextType: 'TEXT', SendContext: 'ping', RecvContext: 'pong', DelayLoop: 20, ConnectTimeout: 5,
    });
    const list = await gaap.DescribeUDPListeners({ ProxyId: proxyId, Port: 6002 });
    assertResponseShape('gaap', 'DescribeUDPListeners', list);
    const l = list.ListenerSet[0];
    assert.equal(l.ListenerId, res.ListenerIds[1]);
    assert.equal(l.Protocol, 'UDP');
    assert.equal(l.CheckType, 'PORT');
    assert.equal(l.CheckPort, 7000);
    assert.equal(l.SendContext, 'ping');
    assert.equal(l.RecvContext, 'pong');
    assert.equal(l.BindStatus, 0);
    assert.equal(l.GroupId, '');
    assert.equal(await errorCode(gaap.CreateUDPListeners({ ListenerName: 'u', Ports: [6003], Scheduler: 'rr', RealServerType: 'IP', ProxyId: proxyId, HealthCheck: 1, CheckType: 'PORT' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateUDPListeners({ ListenerName: 'u', Ports: [6003], Scheduler: 'rr', RealServerType: 'IP', ProxyId: proxyId, CheckType: 'ICMP' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateUDPListeners({ ListenerName: 'u', Ports: [6003], Scheduler: 'rr', RealServerType: 'IP', ProxyId: proxyId, CheckType: 'PORT', CheckPort: 7000, ContextType: 'HEX' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateUDPListeners({ ListenerName: 'u', Ports: [6003], Scheduler: 'rr', RealServerType: 'IP', ProxyId: proxyId, CheckType: 'PORT', CheckPort: 70000 })), 'InvalidParameterValue');
    // PING ignores the port-probe settings
    const ping = await gaap.CreateUDPListeners({ ListenerName: 'p', Ports: [6004], Scheduler: 'rr', RealServerType: 'IP', ProxyId: proxyId, HealthCheck: 1, CheckType: 'PING', CheckPort: -1, SendContext: 'x' });
    const [p] = (await gaap.DescribeUDPListeners({ ListenerId: ping.ListenerIds[0] })).ListenerSet;
    assert.equal(p.CheckType, 'PING');
    assert.equal(p.CheckPort, 0);
    assert.equal(p.SendContext, '');
    const mod = await gaap.ModifyUDPListenerAttribute({ ProxyId: proxyId, ListenerId: l.ListenerId, CheckType: 'PING', ListenerName: 'udp2' });
    assertResponseShape('gaap', 'ModifyUDPListenerAttribute', mod);
    const [after] = (await gaap.DescribeUDPListeners({ ListenerId: l.ListenerId })).ListenerSet;
    assert.equal(after.ListenerName, 'udp2');
    assert.equal(after.CheckType, 'PING');
    assert.equal(after.SendContext, '');
    assert.equal(after.DelayLoop, 20);
  });

  it('creates HTTP listeners and renames them', async () => {
    const res = await gaap.CreateHTTPListener({ ListenerName: 'web', Port: 8080, ProxyId: proxyId });
    assertResponseShape('gaap', 'CreateHTTPListener', res);
    const list = await gaap.DescribeHTTPListeners({ ProxyId: proxyId });
    assertResponseShape('gaap', 'DescribeHTTPListeners', list);
    const l = list.ListenerSet.find((x: any) => x.ListenerId === res.ListenerId);
    assert.equal(l.Protocol, 'HTTP');
    assert.equal(l.Port, 8080);
    assert.equal(l.ListenerStatus, 0);
    assert.equal(l.GroupId, null);
    const mod = await gaap.ModifyHTTPListenerAttribute({ ListenerId: res.ListenerId, ListenerName: 'web2', ProxyId: proxyId });
    assertResponseShape('gaap', 'ModifyHTTPListenerAttribute', mod);
    assert.equal((await gaap.DescribeHTTPListeners({ ListenerId: res.ListenerId })).ListenerSet[0].ListenerName, 'web2');
    assert.equal(await errorCode(gaap.ModifyHTTPListenerAttribute({ ListenerId: 'listener-00000000', ListenerName: 'x' })), 'ResourceNotFound');
    const [tcp] = (await gaap.DescribeTCPListeners({ ProxyId: proxyId, Port: 1001 })).ListenerSet;
    assert.equal(await errorCode(gaap.ModifyHTTPListenerAttribute({ ListenerId: tcp.ListenerId, ListenerName: 'x' })), 'InvalidParameterValue');
  });

  it('creates HTTPS listeners with certificates and TLS settings', async () => {
    const res = await gaap.CreateHTTPSListener({
      ListenerName: 'secure', Port: 8443, ProxyId: proxyId, CertificateId: serverCert, ForwardProtocol: 'HTTPS', AuthType: 1, PolyClientCertificateIds: [clientCert],
    });
    assertResponseShape('gaap', 'CreateHTTPSListener', res);
    const list = await gaap.DescribeHTTPSListeners({ ListenerId: res.ListenerId });
    assertResponseShape('gaap', 'DescribeHTTPSListeners', list);
    const l = list.ListenerSet[0];
    assert.equal(l.Protocol, 'HTTPS');
    assert.equal(l.CertificateId, serverCert);
    assert.equal(l.CertificateAlias, 'srv');
    assert.equal(l.AuthType, 1);
    assert.equal(l.ClientCertificateId, clientCert);
    assert.deepEqual(l.PolyClientCertificateAliasInfo, [{ CertificateId: clientCert, CertificateAlias: 'ca' }]);
    assert.equal(l.ForwardProtocol, 'HTTPS');
    assert.equal(l.Http3Supported, 0);
    assert.equal(l.TLSCiphers, 'GAAP_TLS_CIPHERS_WIDE');
    assert.ok(l.TLSSupportVersion.length > 0);

    const base = { ListenerName: 's', Port: 8444, ProxyId: proxyId, ForwardProtocol: 'HTTP' };
    assert.equal(await errorCode(gaap.CreateHTTPSListener({ ...base, CertificateId: 'cert-00000000' })), 'InvalidParameterValue.InvalidCertificateId');
    assert.equal(await errorCode(gaap.CreateHTTPSListener({ ...base, CertificateId: clientCert })), 'InvalidParameterValue.InvalidCertificateId');
    assert.equal(await errorCode(gaap.CreateHTTPSListener({ ...base, CertificateId: serverCert, AuthType: 1 })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateHTTPSListener({ ...base, CertificateId: serverCert, ClientCertificateId: clientCert })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateHTTPSListener({ ...base, CertificateId: serverCert, AuthType: 1, ClientCertificateId: serverCert })), 'InvalidParameterValue.InvalidCertificateId');
    assert.equal(await errorCode(gaap.CreateHTTPSListener({ ...base, CertificateId: serverCert, ForwardProtocol: 'TCP' })), 'InvalidParameterValue');
    // HTTP/3 needs a proxy that supports it (IPv6 proxies do not)
    const v6 = (await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'v6', AccessRegion: 'Beijing', RealServerRegion: 'Hongkong', Bandwidth: 10, Concurrent: 2, IPAddressVersion: 'IPv6' })).InstanceId;
    assert.equal((await gaap.DescribeProxies({ ProxyIds: [v6] })).ProxySet[0].Http3Supported, 0);
    assert.equal(await errorCode(gaap.CreateHTTPSListener({ ...base, ProxyId: v6, CertificateId: serverCert, Http3Supported: 1 })), 'InvalidParameterValue');
    assert.ok((await gaap.CreateHTTPSListener({ ...base, ProxyId: v6, CertificateId: serverCert, Http3Supported: 0 })).ListenerId);

    // modify: ProxyId is required for a proxy's listener
    assert.equal(await errorCode(gaap.ModifyHTTPSListenerAttribute({ ListenerId: res.ListenerId, ListenerName: 'x' })), 'MissingParameter');
    const s2 = selfSigned('api.example.com');
    const cert2 = (await gaap.CreateCertificate({ CertificateType: 2, CertificateContent: s2.cert, CertificateKey: s2.key, CertificateAlias: 'srv2' })).CertificateId;
    const mod = await gaap.ModifyHTTPSListenerAttribute({ ListenerId: res.ListenerId, ProxyId: proxyId, ListenerName: 'secure2', CertificateId: cert2, ForwardProtocol: 'HTTP' });
    assertResponseShape('gaap', 'ModifyHTTPSListenerAttribute', mod);
    const [m] = (await gaap.DescribeHTTPSListeners({ ListenerId: res.ListenerId })).ListenerSet;
    assert.equal(m.ListenerName, 'secure2');
    assert.equal(m.CertificateId, cert2);
    assert.equal(m.CertificateAlias, 'srv2');
    assert.equal(m.ForwardProtocol, 'HTTP');
    assert.equal(await errorCode(gaap.ModifyHTTPSListenerAttribute({ ListenerId: res.ListenerId, ProxyId: proxyId, CertificateId: clientCert })), 'InvalidParameterValue');
    // aliases follow the certificate
    await gaap.ModifyCertificateAttributes({ CertificateId: cert2, CertificateAlias: 'renamed' });
    assert.equal((await gaap.DescribeHTTPSListeners({ ListenerId: res.ListenerId })).ListenerSet[0].CertificateAlias, 'renamed');
    // certificates in use by the listener cannot be deleted
    assert.equal(await errorCode(gaap.DeleteCertificate({ CertificateId: cert2 })), 'FailedOperation.CertificateIsUsing');
    assert.equal(await errorCode(gaap.DeleteCertificate({ CertificateId: clientCert })), 'FailedOperation.CertificateIsUsing');

    const tls = await gaap.SetTlsVersion({ ListenerId: res.ListenerId, TLSSupportVersion: ['TLSv1.3', 'TLSv1.2'], TLSCiphers: 'GAAP_TLS_CIPHERS_STRICT' });
    assertResponseShape('gaap', 'SetTlsVersion', tls);
    const [t] = (await gaap.DescribeHTTPSListeners({ ListenerId: res.ListenerId })).ListenerSet;
    assert.deepEqual(t.TLSSupportVersion, ['TLSv1.2', 'TLSv1.3']);
    assert.equal(t.TLSCiphers, 'GAAP_TLS_CIPHERS_STRICT');
    assert.equal(await errorCode(gaap.SetTlsVersion({ ListenerId: res.ListenerId, TLSSupportVersion: ['SSLv3'], TLSCiphers: 'GAAP_TLS_CIPHERS_WIDE' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.SetTlsVersion({ ListenerId: res.ListenerId, TLSSupportVersion: ['TLSv1.2'], TLSCiphers: 'ALL' })), 'InvalidParameterValue');
  });

  it('deletes listeners: invalid ids, Force and the L7 records under them', async () => {
    const [a, b] = (await gaap.CreateTCPListeners({ ...tcpBase, ProxyId: proxyId, Ports: [9001, 9002] })).ListenerIds;
    const rs = (await gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['10.9.9.9'], RealServerName: 'del' })).RealServerSet[0];
    await gaap.BindListenerRealServers({ ListenerId: a, RealServerBindSet: [{ RealServerId: rs.RealServerId, RealServerIP: rs.RealServerIP, RealServerPort: 80 }] });
    // An L4 listener's own bindings do not block Force 0 (Terraform deletes bound L4 listeners so).
    const [bound] = (await gaap.CreateTCPListeners({ ...tcpBase, ProxyId: proxyId, Ports: [9003] })).ListenerIds;
    await gaap.BindListenerRealServers({ ListenerId: bound, RealServerBindSet: [{ RealServerId: rs.RealServerId, RealServerIP: rs.RealServerIP, RealServerPort: 81 }] });
    assert.deepEqual((await gaap.DeleteListeners({ ProxyId: proxyId, ListenerIds: [bound], Force: 0 })).OperationSucceedListenerSet, [bound]);
    assert.equal((await gaap.DescribeTCPListeners({ ListenerId: b })).TotalCount, 1);
    assert.equal(await errorCode(gaap.DeleteListeners({ ListenerIds: [a], Force: 1 })), 'MissingParameter');
    assert.equal(await errorCode(gaap.DeleteListeners({ ProxyId: proxyId, ListenerIds: [a], Force: 2 })), 'InvalidParameterValue');
    const other = await createProxy(gaap, 'other3');
    const res = await gaap.DeleteListeners({ ProxyId: proxyId, ListenerIds: [a, b, 'listener-00000000'], Force: 1 });
    assertResponseShape('gaap', 'DeleteListeners', res);
    assert.deepEqual(res.OperationSucceedListenerSet.sort(), [a, b].sort());
    assert.deepEqual(res.InvalidStatusListenerSet, ['listener-00000000']);
    assert.deepEqual(res.OperationFailedListenerSet, []);
    assert.equal((await gaap.DescribeTCPListeners({ ListenerId: a })).TotalCount, 0);
    // the freed port can be used again; a listener of another proxy is invalid here
    const [c] = (await gaap.CreateTCPListeners({ ...tcpBase, ProxyId: proxyId, Ports: [9001] })).ListenerIds;
    const wrongOwner = await gaap.DeleteListeners({ ProxyId: other, ListenerIds: [c], Force: 1 });
    assert.deepEqual(wrongOwner.InvalidStatusListenerSet, [c]);
    assert.deepEqual(wrongOwner.OperationSucceedListenerSet, []);

    // deleting an HTTP listener removes its domains and rules
    const http = (await gaap.CreateHTTPListener({ ListenerName: 'l7', Port: 9080, ProxyId: proxyId })).ListenerId;
    await gaap.CreateDomain({ ListenerId: http, Domain: 'www.example.com' });
    assert.equal((await gaap.DescribeRules({ ListenerId: http })).DomainRuleSet.length, 1);
    await gaap.DeleteListeners({ ProxyId: proxyId, ListenerIds: [http], Force: 1 });
    assert.equal((await gaap.DescribeHTTPListeners({ ListenerId: http })).TotalCount, 0);
    const again = (await gaap.CreateHTTPListener({ ListenerName: 'l7', Port: 9080, ProxyId: proxyId })).ListenerId;
    assert.equal((await gaap.DescribeRules({ ListenerId: again })).DomainRuleSet.length, 0);
    assert.equal(await errorCode(gaap.DescribeRules({ ListenerId: http })), 'ResourceNotFound');
  });

  it('creates listeners of a proxy group', async () => {
    const { GroupId } = await gaap.CreateProxyGroup({ ProjectId: 0, GroupName: 'grp', RealServerRegion: 'Beijing', AccessRegionSet: [{ AccessRegion: 'Hongkong', Bandwidth: 10, Concurrent: 2 }] });
    const tcp = await gaap.CreateTCPListeners({ ...tcpBase, GroupId, Ports: [80], RealServerPorts: [8080] });
    const [l] = (await gaap.DescribeTCPListeners({ GroupId })).ListenerSet;
    assert.equal(l.ListenerId, tcp.ListenerIds[0]);
    assert.equal(l.GroupId, GroupId);
    assert.equal(l.ProxyId, '');
    assert.equal(l.RealServerPort, 8080);
    const udp = await gaap.CreateUDPListeners({ ListenerName: 'gu', GroupId, Ports: [80], Scheduler: 'rr', RealServerType: 'IP' });
    const u = (await gaap.DescribeUDPListeners({ GroupId })).ListenerSet[0];
    assertResponseShape('gaap', 'DescribeUDPListeners', { TotalCount: 1, ListenerSet: [u] });
    assert.equal(u.ListenerId, udp.ListenerIds[0]);
    assert.equal(await errorCode(gaap.DescribeTCPListeners({ GroupId, ListenerId: (await gaap.DescribeTCPListeners({ ProxyId: proxyId, Port: 1001 })).ListenerSet[0].ListenerId })), 'InvalidParameterValue');
    const http = await gaap.CreateHTTPListener({ ListenerName: 'gh', Port: 8000, GroupId });
    assert.equal(await errorCode(gaap.ModifyHTTPListenerAttribute({ ListenerId: http.ListenerId, ListenerName: 'x' })), 'FailedOperation.NotSupportProxyGroup');
    const del = await gaap.DeleteListeners({ GroupId, ListenerIds: [tcp.ListenerIds[0]], Force: 0 });
    assert.deepEqual(del.OperationSucceedListenerSet, tcp.ListenerIds);
  });

  it('keeps accounts apart', async () => {
    const a = cnClient('gaap', server, { account: ACCOUNT_A });
    const b = cnClient('gaap', server, { account: ACCOUNT_B });
    const proxyA = await createProxy(a, 'a');
    const [id] = (await a.CreateTCPListeners({ ...tcpBase, ProxyId: proxyA, Ports: [80] })).ListenerIds;
    assert.equal((await b.DescribeTCPListeners({ ListenerId: id })).TotalCount, 0);
    assert.equal(await errorCode(b.DescribeTCPListeners({ ProxyId: proxyA })), 'ResourceNotFound');
    assert.equal(await errorCode(b.ModifyTCPListenerAttribute({ ProxyId: proxyA, ListenerId: id, ListenerName: 'x' })), 'ResourceNotFound');
    assert.equal(await errorCode(b.CreateTCPListeners({ ...tcpBase, ProxyId: proxyA, Ports: [81] })), 'ResourceNotFound');
    const proxyB = await createProxy(b, 'b');
    // the same port on another account's proxy is free
    assert.equal((await b.CreateTCPListeners({ ...tcpBase, ProxyId: proxyB, Ports: [80] })).ListenerIds.length, 1);
    assert.deepEqual((await b.DeleteListeners({ ProxyId: proxyB, ListenerIds: [id], Force: 1 })).InvalidStatusListenerSet, [id]);
    assert.equal((await a.DescribeTCPListeners({ ListenerId: id })).TotalCount, 1);
  });
});

describe('GAAP listener statuses', () => {
  let server: RunningServer;
  let gaap: any;
  before(async () => {
    server = await startTclocal({ ...MANUAL_TRANSITIONS, rateLimits: false });
    gaap = cnClient('gaap', server);
  });
  after(() => server.stop());

  it('goes through creating, changing, binding and destroying', async () => {
    const proxyId = await createProxy(gaap);
    // the proxy is still being created
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...tcpBase, ProxyId: proxyId, Ports: [80] })), 'FailedOperation.ProxyStatusNotInRuning');
    assert.equal(await errorCode(gaap.CreateUDPListeners({ ListenerName: 'u', Ports: [80], Scheduler: 'rr', RealServerType: 'IP', ProxyId: proxyId })), 'FailedOperation.InstanceStatusNotInRuning');
    assert.equal(await errorCode(gaap.CreateHTTPListener({ ListenerName: 'h', Port: 80, ProxyId: proxyId })), 'FailedOperation.ProxyStatusNotInRuning');
    await advance(server);

    const created = await gaap.CreateTCPListeners({ ...tcpBase, ProxyId: proxyId, Ports: [80] });
    const id = created.ListenerIds[0];
    const status = async () => (await gaap.DescribeTCPListeners({ ListenerId: id })).ListenerSet[0]?.ListenerStatus;
    assert.equal(await status(), 1);
    assert.equal((await gaap.DescribeTaskStatus({ TaskId: created.RequestId })).Status, 'RUNNING');
    assert.equal(await errorCode(gaap.ModifyTCPListenerAttribute({ ProxyId: proxyId, ListenerId: id, ListenerName: 'x' })), 'FailedOperation.ListenerHasTask');
    const busy = await gaap.DeleteListeners({ ProxyId: proxyId, ListenerIds: [id], Force: 1 });
    assert.deepEqual(busy.OperationFailedListenerSet, [id]);
    await advance(server);
    assert.equal(await status(), 0);
    assert.equal((await gaap.DescribeTaskStatus({ TaskId: created.RequestId })).Status, 'SUCCESS');

    await gaap.ModifyTCPListenerAttribute({ ProxyId: proxyId, ListenerId: id, ListenerName: 'x' });
    assert.equal(await status(), 4);
    const rs = (await gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['10.1.1.1'], RealServerName: 'r' })).RealServerSet[0];
    const bind = { ListenerId: id, RealServerBindSet: [{ RealServerId: rs.RealServerId, RealServerIP: rs.RealServerIP, RealServerPort: 80 }] };
    assert.equal(await errorCode(gaap.BindListenerRealServers(bind)), 'FailedOperation.ListenerHasTask');
    await advance(server);
    assert.equal(await status(), 0);

    await gaap.BindListenerRealServers(bind);
    assert.equal(await status(), 3);
    await advance(server);
    assert.equal(await status(), 0);

    const https = await gaap.CreateHTTPListener({ ListenerName: 'h', Port: 81, ProxyId: proxyId });
    assert.equal((await gaap.DescribeHTTPListeners({ ListenerId: https.ListenerId })).ListenerSet[0].ListenerStatus, 1);
    assert.equal(await errorCode(gaap.ModifyHTTPListenerAttribute({ ListenerId: https.ListenerId, ListenerName: 'y' })), 'FailedOperation.ListenerStatusError');
    await advance(server);

    const del = await gaap.DeleteListeners({ ProxyId: proxyId, ListenerIds: [id], Force: 1 });
    assert.deepEqual(del.OperationSucceedListenerSet, [id]);
    assert.equal(await status(), 2);
    const twice = await gaap.DeleteListeners({ ProxyId: proxyId, ListenerIds: [id], Force: 1 });
    assert.deepEqual(twice.InvalidStatusListenerSet, [id]);
    // the port stays taken until the listener is gone
    assert.equal(await errorCode(gaap.CreateTCPListeners({ ...tcpBase, ProxyId: proxyId, Ports: [80] })), 'InvalidParameterValue.DuplicatedListenerPort');
    await advance(server);
    assert.equal(await status(), undefined);
    assert.equal((await gaap.DescribeTaskStatus({ TaskId: del.RequestId })).Status, 'SUCCESS');
  });

  it('refuses listener writes on a closed proxy', async () => {
    const proxyId = await createProxy(gaap, 'closing');
    await advance(server);
    const [id] = (await gaap.CreateTCPListeners({ ...tcpBase, ProxyId: proxyId, Ports: [80] })).ListenerIds;
    await advance(server);
    await gaap.CloseProxies({ ProxyIds: [proxyId] });
    await advance(server);
    assert.equal(await errorCode(gaap.ModifyTCPListenerAttribute({ ProxyId: proxyId, ListenerId: id, ListenerName: 'x' })), 'FailedOperation.InstanceStatusNotInRuning');
    assert.equal(await errorCode(gaap.DeleteListeners({ ProxyId: proxyId, ListenerIds: [id], Force: 1 })), 'FailedOperation.InstanceStatusNotInRuning');
    assert.equal(await errorCode(gaap.BindListenerRealServers({ ListenerId: id })), 'FailedOperation.InstanceStatusNotInRuning');
  });
});
