/**
 * Each GAAP resource of Terraform's tencentcloud provider, replayed as the
 * provider drives it: create → update → destroy, back to back, with only the
 * provider's own waits (its retry back-off, its polls, its fixed sleeps) and
 * its rule for which error codes are retried — every other code is fatal.
 * The server runs at the default settings (transition time 1 s, rate limits
 * on); the only setting changed is the documented CreateTime back-dating that
 * spares the provider's two-minute wait before destroying a proxy. The
 * resources run side by side, as Terraform runs independent resources.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../src/server';
import { cnClient, startTclocal } from '../../helpers';
import { selfSigned } from '../../../testkit/pem';
import { readsAsGone, retryable } from '../../support/terraform';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The provider's retry engine: try at once, then after 0.5 s, 1 s, 2 s, 4 s, 8 s, 10 s, 10 s… */
const BACKOFF = [500, 1000, 2000, 4000, 8000];
const backoff = (attempt: number) => BACKOFF[attempt] ?? 10_000;
/** Enough for every wait here at the default transition time; the provider itself waits minutes. */
const GIVE_UP_MS = 60_000;

/** A call inside resource.Retry: retryable codes are retried, any other error fails the resource. */
async function call(what: string, f: () => Promise<any>): Promise<any> {
  const end = Date.now() + GIVE_UP_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await f();
    } catch (e) {
      const err = e as { code?: string; message?: string };
      if (!err.code || !retryable(err.code) || Date.now() > end) throw new Error(`${what}: ${err.code} ${err.message}`);
      await sleep(backoff(attempt));
    }
  }
}

/** A provider wait built on resource.Retry: read (retrying as above) until `done`. */
async function waitUntil<T>(what: string, read: () => Promise<T>, done: (r: T) => boolean): Promise<T> {
  const end = Date.now() + GIVE_UP_MS;
  for (let attempt = 0; ; attempt++) {
    const r = await call(what, read);
    if (done(r)) return r;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(r).slice(0, 300)}`);
    await sleep(backoff(attempt));
  }
}

/** The provider's StateChangeConf (global domains and their DNS records): 1 s delay, then at least 3 s between reads. */
async function stateChange<T>(what: string, read: () => Promise<T>, done: (r: T) => boolean): Promise<T> {
  await sleep(1000);
  const end = Date.now() + GIVE_UP_MS;
  for (;;) {
    const r = await read();
    if (done(r)) return r;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(3000);
  }
}

const sameSet = (a: unknown[], b: unknown[]) => a.length === b.length && a.every((x) => b.includes(x));

describe('Terraform resources, create → update → destroy at the default transition time', () => {
  let server: RunningServer;
  let gaap: any;
  let tag: any;
  const pem = {
    server: selfSigned('zhyu-10.elementtest.org', { sans: ['*.elementtest.org', 'elementtest.org', 'www.qq.com'] }),
    ca: selfSigned('terraform test CA', { sans: [], ca: true }),
  };
  const fixture: Record<string, string> = {};

  /** Terraform's proxy create: CreateProxy, 3 s, then DescribeTaskStatus with the create's RequestId. */
  async function createProxy(name: string): Promise<string> {
    const res = await call('CreateProxy', () => gaap.CreateProxy({
      ProxyName: name, ProjectId: 0, Bandwidth: 10, Concurrent: 2, AccessRegion: 'Beijing', RealServerRegion: 'Guangzhou', NetworkType: 'normal', ClientToken: Buffer.from(name).toString('base64'),
    }));
    await sleep(3000);
    const task = await waitUntil('proxy task', () => gaap.DescribeTaskStatus({ TaskId: res.RequestId }), (r: any) => r.Status !== 'RUNNING');
    assert.equal(task.Status, 'SUCCESS');
    return res.InstanceId;
  }
  const certificate = async (type: number, content: string, key?: string) =>
    (await call('CreateCertificate', () => gaap.CreateCertificate({ CertificateType: type, CertificateContent: content, CertificateAlias: '', CertificateKey: key }))).CertificateId as string;
  const layer7Ready = (protocol: 'HTTP' | 'HTTPS', id: string) =>
    waitUntil(`${protocol} listener`, () => gaap[`Describe${protocol}Listeners`]({ ListenerId: id }), (r: any) => r.ListenerSet.length === 1 && r.ListenerSet[0].ListenerStatus === 0);
  const addRealServer = async (ip: string) =>
    (await call('AddRealServers', () => gaap.AddRealServers({ RealServerName: `rs-${ip}`, RealServerIP: [ip], ProjectId: 0 }))).RealServerSet[0].RealServerId as string;

  before(async () => {
    server = await startTclocal({ transitionMs: 1000, rateLimits: true, gaapCreateTimeBackdate: 120 });
    gaap = cnClient('gaap', server, { language: 'en-US' });
    tag = cnClient('tag', server);
    // What the acceptance tests find pre-seeded: running proxies, real servers, certificates.
    [fixture.proxy, fixture.proxy2, fixture.policyProxy] = await Promise.all([createProxy('fixture-1'), createProxy('fixture-2'), createProxy('fixture-3')]);
    fixture.rs1 = await addRealServer('119.29.29.35');
    fixture.rs2 = await addRealServer('1.1.1.5');
    fixture.serverCert = await certificate(2, pem.server.cert, pem.server.key);
    fixture.clientCert = await certificate(1, pem.ca.cert);
    fixture.clientCert2 = await certificate(1, pem.ca.cert);
    fixture.rsCert = await certificate(3, pem.ca.cert);
    fixture.basicCert = await certificate(0, 'test:tx2KGdo3zJg/.');
    fixture.gaapCert = await certificate(4, pem.server.cert, pem.server.key);
    fixture.policy = (await call('CreateSecurityPolicy', () => gaap.CreateSecurityPolicy({ ProxyId: fixture.policyProxy, DefaultAction: 'ACCEPT' }))).PolicyId;
  });
  after(() => server.stop());

  const resources: Record<string, () => Promise<void>> = {
    async proxy() {
      const id = await createProxy('ci-test-gaap-proxy-update');
      // Update: name, project, bandwidth (task, then 10 s), then disable with tags.
      await call('ModifyProxiesAttribute', () => gaap.ModifyProxiesAttribute({ ProxyIds: [id], ProxyName: 'ci-test-gaap-proxy-new', ClientToken: 'bmFtZQ==' }));
      await call('ModifyProxiesProject', () => gaap.ModifyProxiesProject({ ProxyIds: [id], ProjectId: 0, ClientToken: 'cHJvamVjdA==' }));
      const cfg = await call('ModifyProxyConfiguration', () => gaap.ModifyProxyConfiguration({ ProxyId: id, Bandwidth: 20, ClientToken: 'YmFuZHdpZHRo' }));
      await sleep(3000);
      assert.equal((await waitUntil('config task', () => gaap.DescribeTaskStatus({ TaskId: cfg.RequestId }), (r: any) => r.Status !== 'RUNNING')).Status, 'SUCCESS');
      await sleep(10_000);
      const closed = await call('CloseProxies', () => gaap.CloseProxies({ ProxyIds: [id], ClientToken: 'Y2xvc2U=' }));
      assert.deepEqual(closed.OperationFailedInstanceSet, []);
      await waitUntil('proxy CLOSED', () => gaap.DescribeProxies({ ProxyIds: [id] }), (r: any) => r.ProxySet[0].Status === 'CLOSED');
      await call('ModifyResourceTags', () => tag.ModifyResourceTags({ Resource: `qcs::gaap:ap-guangzhou:uin/:proxy/${id}`, ReplaceTags: [{ TagKey: 'test', TagValue: 'test' }] }));
      const read = (await gaap.DescribeProxies({ ProxyIds: [id], Limit: 100, Offset: 0 })).ProxySet[0];
      assert.deepEqual([read.ProxyName, read.Bandwidth, read.Status, read.TagSet], ['ci-test-gaap-proxy-new', 20, 'CLOSED', [{ TagKey: 'test', TagValue: 'test' }]]);
      // Destroy: sleep until CreateTime + 2 min (over already: back-dated), DestroyProxies Force 1, wait until gone.
      await sleep(Math.max(0, (read.CreateTime + 120) * 1000 - Date.now()));
      const destroyed = await call('DestroyProxies', () => gaap.DestroyProxies({ ProxyIds: [id], Force: 1, ClientToken: 'ZGVzdHJveQ==' }));
      assert.deepEqual(destroyed.InvalidStatusInstanceSet, []);
      await waitUntil('proxy gone', () => gaap.DescribeProxies({ ProxyIds: [id] }).catch((e: any) => e), (r: any) => r.ProxySet?.length === 0 || r.code === 'ResourceNotFound');
    },

    async realserver() {
      assert.equal((await call('DescribeRealServers', () => gaap.DescribeRealServers({ SearchValue: '1.2.2.4', ProjectId: -1, Limit: 50, Offset: 0 }))).TotalCount, 0);
      const id = await addRealServer('1.2.2.4');
      await call('ModifyRealServerName', () => gaap.ModifyRealServerName({ RealServerId: id, RealServerName: 'ci-test-gaap-realserver-new' }));
      await call('ModifyResourceTags', () => tag.ModifyResourceTags({ Resource: `qcs::gaap:ap-guangzhou:uin/:realServer/${id}`, ReplaceTags: [{ TagKey: 'test', TagValue: 'test' }] }));
      await call('RemoveRealServers', () => gaap.RemoveRealServers({ RealServerIds: [id] }));
      const all = await gaap.DescribeRealServers({ ProjectId: -1, Limit: 50, Offset: 0 });
      assert.ok(!all.RealServerSet.some((r: any) => r.RealServerId === id));
    },

    async certificate() {
      const id = await certificate(0, 'test:tx2KGdo3zJg/.');
      assert.equal((await gaap.DescribeCertificateDetail({ CertificateId: id })).CertificateDetail.CertificateAlias, '');
      await call('ModifyCertificateAttributes', () => gaap.ModifyCertificateAttributes({ CertificateId: id, CertificateAlias: 'new-name' }));
      await call('DeleteCertificate', () => gaap.DeleteCertificate({ CertificateId: id }));
      assert.ok(await readsAsGone(() => gaap.DescribeCertificateDetail({ CertificateId: id }), (e) => e.message === 'CertificateId not found'));
    },

    async layer4Listener() {
      const ready = (id: string) => waitUntil('TCP listener', () => gaap.DescribeTCPListeners({ ListenerId: id }), (r: any) => r.ListenerSet.length === 1 && r.ListenerSet[0].ListenerStatus === 0);
      const base = { Scheduler: 'rr', HealthCheck: 1, DelayLoop: 5, ConnectTimeout: 2, HealthyThreshold: 1, UnhealthyThreshold: 1 };
      const [id] = (await call('CreateTCPListeners', () => gaap.CreateTCPListeners({ ...base, ListenerName: 'ci-test-gaap-4-listener', RealServerType: 'IP', ProxyId: fixture.proxy, Ports: [9092], ClientIPMethod: 0 }))).ListenerIds;
      await ready(id);
      const bind = (ids: string[]) => call('BindListenerRealServers', () => gaap.BindListenerRealServers({
        ListenerId: id, RealServerBindSet: ids.length ? ids.map((rs) => ({ RealServerId: rs, RealServerPort: 80, RealServerIP: rs === fixture.rs1 ? '119.29.29.35' : '1.1.1.5', RealServerWeight: 1 })) : undefined,
      }));
      await bind([fixture.rs1, fixture.rs2]);
      await ready(id);
      await call('ModifyTCPListenerAttribute', () => gaap.ModifyTCPListenerAttribute({ ...base, ProxyId: fixture.proxy, ListenerId: id, ListenerName: 'ci-test-gaap-4-listener-new', Scheduler: 'wrr', DelayLoop: 11, ConnectTimeout: 10 }));
      await ready(id);
      await bind([fixture.rs1]);
      await ready(id);
      // Destroy with the real server still bound, Force 0, as the provider does.
      const del = await call('DeleteListeners', () => gaap.DeleteListeners({ ProxyId: fixture.proxy, ListenerIds: [id], Force: 0 }));
      assert.deepEqual(del.OperationSucceedListenerSet, [id]);
      await waitUntil('TCP listener gone', () => gaap.DescribeTCPListeners({ ListenerId: id }), (r: any) => r.ListenerSet.length === 0);
    },

    async layer7Listener() {
      const id = (await call('CreateHTTPSListener', () => gaap.CreateHTTPSListener({
        ProxyId: fixture.proxy, CertificateId: fixture.serverCert, ForwardProtocol: 'HTTP', ListenerName: 'ci-test-gaap-l7-listener', Port: 8084, AuthType: 1, PolyClientCertificateIds: [fixture.clientCert],
      }))).ListenerId;
      await layer7Ready('HTTPS', id);
      assert.equal((await gaap.DescribeProxyDetail({ ProxyId: fixture.proxy })).ProxyDetail.IsSupportTLSChoice, 1);
      await call('SetTlsVersion', () => gaap.SetTlsVersion({ ListenerId: id, TLSCiphers: 'GAAP_TLS_CIPHERS_GENERAL', TLSSupportVersion: ['TLSv1.2'] }));
      await call('ModifyHTTPSListenerAttribute', () => gaap.ModifyHTTPSListenerAttribute({
        ProxyId: fixture.proxy, ListenerId: id, ListenerName: 'ci-test-gaap-l7-listener-new', ForwardProtocol: 'HTTP', PolyClientCertificateIds: [fixture.clientCert, fixture.clientCert2],
      }));
      const read = (await layer7Ready('HTTPS', id)).ListenerSet[0];
      assert.equal(read.PolyClientCertificateAliasInfo.length, 2);
      await call('DeleteListeners', () => gaap.DeleteListeners({ ProxyId: fixture.proxy, ListenerIds: [id], Force: 0 }));
      await waitUntil('HTTPS listener gone', () => gaap.DescribeHTTPSListeners({ ListenerId: id }), (r: any) => r.ListenerSet.length === 0);
    },

    async httpDomain() {
      // The listener (another resource): HTTPS forwarding HTTPS, mutual authentication.
      const listenerId = (await call('CreateHTTPSListener', () => gaap.CreateHTTPSListener({
        ProxyId: fixture.proxy, CertificateId: fixture.serverCert, ForwardProtocol: 'HTTPS', ListenerName: 'ci-test-gaap-l7', Port: 7172, AuthType: 1, PolyClientCertificateIds: [fixture.clientCert],
      }))).ListenerId;
      await layer7Ready('HTTPS', listenerId);
      const domain = 'zhyu-10.elementtest.org';
      const rules = () => gaap.DescribeRules({ ListenerId: listenerId });
      // Create: learn the protocol, CreateDomain, wait until listed, then SetAuthentication at once.
      assert.equal((await gaap.DescribeHTTPListeners({ ListenerId: listenerId })).ListenerSet.length, 0);
      assert.equal((await gaap.DescribeHTTPSListeners({ ListenerId: listenerId })).ListenerSet[0].ForwardProtocol, 'HTTPS');
      await call('CreateDomain', () => gaap.CreateDomain({ ListenerId: listenerId, Domain: domain, CertificateId: 'default', PolyClientCertificateIds: [fixture.clientCert], IsDefaultServer: false }));
      await waitUntil('domain listed', rules, (r: any) => r.DomainRuleSet.some((d: any) => d.Domain === domain));
      const auth = { ListenerId: listenerId, Domain: domain, RealServerAuth: 1, RealServerCertificateDomain: 'elementtest.org', PolyRealServerCertificateIds: [fixture.rsCert], BasicAuth: 1, BasicAuthConfId: fixture.basicCert, GaapAuth: 1, GaapCertificateId: fixture.gaapCert };
      await call('SetAuthentication', () => gaap.SetAuthentication(auth));
      // Update: is_default_server (ModifyDomain), then certificates and authentication back to back.
      await call('ModifyDomain', () => gaap.ModifyDomain({ ListenerId: listenerId, OldDomain: domain, NewDomain: domain, CertificateId: 'default', PolyClientCertificateIds: ['default'], IsDefaultServer: true }));
      await call('DescribeHTTPSListeners', () => gaap.DescribeHTTPSListeners({ ListenerId: listenerId }));
      await call('ModifyCertificate', () => gaap.ModifyCertificate({ ListenerId: listenerId, Domain: domain, CertificateId: fixture.serverCert, PolyClientCertificateIds: [fixture.clientCert2] }));
      await call('SetAuthentication', () => gaap.SetAuthentication({ ...auth, BasicAuth: 0, BasicAuthConfId: '' }));
      const read = (await rules()).DomainRuleSet.find((d: any) => d.Domain === domain);
      assert.deepEqual([read.CertificateId, read.BasicAuth, read.GaapAuth, read.RealServerAuth, read.IsDefaultServer], [fixture.serverCert, 0, 1, 1, true]);
      // Destroy: DeleteDomain Force 0, wait until absent; then the listener.
      await call('DeleteDomain', () => gaap.DeleteDomain({ ListenerId: listenerId, Domain: domain, Force: 0 }));
      await waitUntil('domain gone', rules, (r: any) => !r.DomainRuleSet.some((d: any) => d.Domain === domain));
      await call('DeleteListeners', () => gaap.DeleteListeners({ ProxyId: fixture.proxy, ListenerIds: [listenerId], Force: 0 }));
    },

    async httpRuleWithHeadersAndErrorPage() {
      // Listener and domain (other resources), as created by their own sequences.
      const listenerId = (await call('CreateHTTPListener', () => gaap.CreateHTTPListener({ ProxyId: fixture.proxy, ListenerName: 'ci-test-gaap-l7', Port: 7071 }))).ListenerId;
      await layer7Ready('HTTP', listenerId);
      await call('CreateDomain', () => gaap.CreateDomain({ ListenerId: listenerId, Domain: 'www.qq.com', IsDefaultServer: false }));
      const rules = () => gaap.DescribeRules({ ListenerId: listenerId });
      await waitUntil('domain listed', rules, (r: any) => r.DomainRuleSet.some((d: any) => d.Domain === 'www.qq.com'));
      // Rule: create, wait, bind, wait; update (full attributes, then forward host, then real servers), each with its wait.
      const check = { DelayLoop: 5, ConnectTimeout: 2, Path: '/', Method: 'GET', StatusCode: [200] };
      const ruleId = (await call('CreateRule', () => gaap.CreateRule({ ListenerId: listenerId, Domain: 'www.qq.com', Path: '/', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 1, CheckParams: check, ForwardHost: 'default' }))).RuleId;
      const ruleReady = () => waitUntil('rule', rules, (r: any) => r.DomainRuleSet.flatMap((d: any) => d.RuleSet).some((x: any) => x.RuleId === ruleId && x.RuleStatus === 0));
      await ruleReady();
      await call('BindRuleRealServers', () => gaap.BindRuleRealServers({ RuleId: ruleId, RealServerBindSet: [{ RealServerId: fixture.rs1, RealServerIP: '119.29.29.35', RealServerPort: 80, RealServerWeight: 1 }] }));
      await ruleReady();
      await call('ModifyRuleAttribute', () => gaap.ModifyRuleAttribute({
        ListenerId: listenerId, RuleId: ruleId, Path: '/new', Scheduler: 'wrr', HealthCheck: 1, CheckParams: { ...check, ConnectTimeout: 3, Path: '/health', Method: 'HEAD', StatusCode: [100, 200] }, ServerNameIndicationSwitch: '', ServerNameIndication: '',
      }));
      await ruleReady();
      await call('ModifyRuleAttribute', () => gaap.ModifyRuleAttribute({ ListenerId: listenerId, RuleId: ruleId, ForwardHost: 'www.qqq.com' }));
      await ruleReady();
      await call('BindRuleRealServers', () => gaap.BindRuleRealServers({ RuleId: ruleId }));
      await ruleReady();
      // Custom headers on the rule: set, replace, clear.
      await call('CreateCustomHeader', () => gaap.CreateCustomHeader({ RuleId: ruleId, Headers: [{ HeaderName: 'HeaderName1', HeaderValue: 'HeaderValue1' }, { HeaderName: 'HeaderName2', HeaderValue: 'HeaderValue2' }] }));
      await call('CreateCustomHeader', () => gaap.CreateCustomHeader({ RuleId: ruleId, Headers: [{ HeaderName: 'HeaderName1', HeaderValue: 'HeaderValue1' }] }));
      assert.equal((await gaap.DescribeCustomHeader({ RuleId: ruleId })).Headers.length, 1);
      await call('CreateCustomHeader', () => gaap.CreateCustomHeader({ RuleId: ruleId }));
      // Error page on the domain: create, wait by id, read, delete, wait by id until empty.
      const pageId = (await call('CreateDomainErrorPageInfo', () => gaap.CreateDomainErrorPageInfo({ ListenerId: listenerId, Domain: 'www.qq.com', ErrorNos: [406, 504], Body: 'bad request', ClearHeaders: ['X-TEST'], SetHeaders: [{ HeaderName: 'X-TEST', HeaderValue: 'test' }] }))).ErrorPageId;
      await waitUntil('error page', () => gaap.DescribeDomainErrorPageInfoByIds({ ErrorPageIds: [pageId] }), (r: any) => r.ErrorPageSet.length === 1);
      assert.equal((await gaap.DescribeDomainErrorPageInfo({ ListenerId: listenerId, Domain: 'www.qq.com' })).ErrorPageSet[0].ErrorPageId, pageId);
      await call('DeleteDomainErrorPageInfo', () => gaap.DeleteDomainErrorPageInfo({ ErrorPageId: pageId }));
      await waitUntil('error page gone', () => gaap.DescribeDomainErrorPageInfoByIds({ ErrorPageIds: [pageId] }), (r: any) => r.ErrorPageSet.length === 0);
      // Rule destroy: Force 1, wait until absent; then the domain and the listener.
      await call('DeleteRule', () => gaap.DeleteRule({ ListenerId: listenerId, RuleId: ruleId, Force: 1 }));
      await waitUntil('rule gone', rules, (r: any) => !r.DomainRuleSet.flatMap((d: any) => d.RuleSet).some((x: any) => x.RuleId === ruleId));
      await call('DeleteDomain', () => gaap.DeleteDomain({ ListenerId: listenerId, Domain: 'www.qq.com', Force: 0 }));
      await waitUntil('domain gone', rules, (r: any) => r.DomainRuleSet.length === 0);
      await call('DeleteListeners', () => gaap.DeleteListeners({ ProxyId: fixture.proxy, ListenerIds: [listenerId], Force: 0 }));
    },

    async securityPolicy() {
      const detail = (id: string) => gaap.DescribeSecurityPolicyDetail({ PolicyId: id });
      const id = (await call('CreateSecurityPolicy', () => gaap.CreateSecurityPolicy({ ProxyId: fixture.proxy2, DefaultAction: 'ACCEPT' }))).PolicyId;
      await call('OpenSecurityPolicy', () => gaap.OpenSecurityPolicy({ ProxyId: fixture.proxy2 }));
      await waitUntil('policy BOUND', () => detail(id), (r: any) => r.Status === 'BOUND');
      await call('CloseSecurityPolicy', () => gaap.CloseSecurityPolicy({ ProxyId: fixture.proxy2 }));
      await waitUntil('policy UNBIND', () => detail(id), (r: any) => r.Status === 'UNBIND');
      await call('DeleteSecurityPolicy', () => gaap.DeleteSecurityPolicy({ PolicyId: id }));
      await waitUntil('policy gone', () => readsAsGone(() => detail(id), (e) => e.code === 'ResourceNotFound' || (e.code === 'InvalidParameter' && e.message.includes('PolicyId'))), (g) => g);
    },

    async securityRule() {
      const [id] = (await call('CreateSecurityRules', () => gaap.CreateSecurityRules({ PolicyId: fixture.policy, RuleList: [{ SourceCidr: '1.1.1.1', DestPortRange: '81', Protocol: 'TCP', AliasName: 'ci-test-gaap-sr', Action: 'ACCEPT' }] }))).RuleIdList;
      assert.equal((await gaap.DescribeSecurityRules({ SecurityRuleIds: [id] })).SecurityRuleSet.length, 1);
      await call('ModifySecurityRule', () => gaap.ModifySecurityRule({ PolicyId: fixture.policy, RuleId: id, SourceCidr: '1.1.1.1', RuleAction: 'DROP', DestPortRange: '81', Protocol: 'TCP', AliasName: 'ci-test-gaap-sr-new' }));
      assert.equal((await gaap.DescribeSecurityRules({ SecurityRuleIds: [id] })).SecurityRuleSet[0].AliasName, 'ci-test-gaap-sr-new');
      await call('DeleteSecurityRules', () => gaap.DeleteSecurityRules({ PolicyId: fixture.policy, RuleIdList: [id] }));
      assert.equal((await gaap.DescribeSecurityRules({ SecurityRuleIds: [id] }).catch(() => ({ SecurityRuleSet: [] }))).SecurityRuleSet.length, 0);
    },

    async proxyGroup() {
      const id = (await call('CreateProxyGroup', () => gaap.CreateProxyGroup({ ProjectId: 0, GroupName: 'tf-test', RealServerRegion: 'Guangzhou', IPAddressVersion: 'IPv4', PackageType: 'Thunder' }))).GroupId;
      const detail = (await gaap.DescribeProxyGroupDetails({ GroupId: id })).ProxyGroupDetail;
      assert.equal(detail.RealServerRegionInfo.RegionId, 'Guangzhou');
      await call('ModifyProxyGroupAttribute', () => gaap.ModifyProxyGroupAttribute({ GroupId: id, GroupName: 'tf-test-update' }));
      await call('DeleteProxyGroup', () => gaap.DeleteProxyGroup({ GroupId: id }));
    },

    async globalDomainAndDns() {
      const domains = (domainId: string) => gaap.DescribeGlobalDomains({ Filters: [{ Name: 'DomainId', Values: [domainId] }], ProjectId: 0, Offset: 0, Limit: 10 });
      const domainId = (await call('CreateGlobalDomain', () => gaap.CreateGlobalDomain({ ProjectId: 0, DefaultValue: 'mikatong.com', Alias: 'demo' }))).DomainId;
      await call('ModifyResourceTags', () => tag.ModifyResourceTags({ Resource: `qcs::gaap:ap-guangzhou:uin/:domain/0#${domainId}`, ReplaceTags: [{ TagKey: 'key', TagValue: 'value' }] }));
      assert.equal((await domains(domainId)).Domains[0].Status, 0);

      // DNS record: create (no id returned), find it by proxies and countries, wait until Status 1.
      const dns = () => gaap.DescribeGlobalDomainDns({ DomainId: domainId });
      const find = (r: any, proxies: string[], codes: string[]) => r.GlobalDnsList.find((x: any) =>
        sameSet(x.AccessList.map((a: any) => a.ProxyId), proxies) && sameSet(x.CountryAreaList.map((c: any) => c.NationCountryInnerCode), codes));
      await call('CreateGlobalDomainDns', () => gaap.CreateGlobalDomainDns({ DomainId: domainId, ProxyIdList: [fixture.proxy], NationCountryInnerCodes: ['101001'] }));
      const recordId = find(await dns(), [fixture.proxy], ['101001']).DnsRecordId;
      await stateChange('DNS record running', dns, (r: any) => r.GlobalDnsList.find((x: any) => x.DnsRecordId === recordId).Status === 1);
      await call('ModifyGlobalDomainDns', () => gaap.ModifyGlobalDomainDns({ DomainId: domainId, DnsRecordId: recordId, ProxyIdList: [fixture.proxy, fixture.proxy2], NationCountryInnerCodes: ['101002'] }));
      await stateChange('DNS record running', dns, (r: any) => r.GlobalDnsList.find((x: any) => x.DnsRecordId === recordId).Status === 1);
      assert.ok(find(await dns(), [fixture.proxy, fixture.proxy2], ['101002']));
      await call('DeleteGlobalDomainDns', () => gaap.DeleteGlobalDomainDns({ DnsRecordId: recordId }));
      // The destroy check reads at once: the record is gone.
      assert.ok(!(await dns()).GlobalDnsList.some((x: any) => x.DnsRecordId === recordId));

      // Domain update: attributes, tags, then close and wait for Status 1; destroy: already closed, delete.
      await call('ModifyGlobalDomainAttribute', () => gaap.ModifyGlobalDomainAttribute({ DomainId: domainId, ProjectId: 0, DefaultValue: 'mikatong1.com', Alias: 'demo1' }));
      await call('ModifyResourceTags', () => tag.ModifyResourceTags({ Resource: `qcs::gaap:ap-guangzhou:uin/:domain/0#${domainId}`, ReplaceTags: [{ TagKey: 'key', TagValue: 'value1' }] }));
      await call('DisableGlobalDomain', () => gaap.DisableGlobalDomain({ DomainId: domainId }));
      await stateChange('domain closed', () => domains(domainId), (r: any) => r.Domains[0].Status === 1);
      assert.equal((await domains(domainId)).Domains[0].Status, 1);
      await call('DeleteGlobalDomain', () => gaap.DeleteGlobalDomain({ DomainId: domainId }));
      assert.equal((await domains(domainId)).Domains.length, 0);
    },
  };

  it('every resource’s sequence succeeds with the provider’s waits only', async () => {
    const results = await Promise.allSettled(Object.entries(resources).map(async ([name, run]) => {
      try {
        await run();
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}`);
      }
    }));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as Error).message);
    assert.deepEqual(failures, []);
  });
});
