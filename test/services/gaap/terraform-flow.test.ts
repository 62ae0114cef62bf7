/**
 * The calls Terraform's tencentcloud provider makes for GAAP resources, in
 * its order, with its waits and its "not found" checks: create a proxy and
 * wait on DescribeTaskStatus with the create's RequestId, tag it through the
 * Tag API, add real servers, a certificate, TCP and HTTPS listeners, a
 * domain, a rule, bindings, a security policy and rule, custom headers and
 * an error page; then tear everything down as Terraform does. Transitions
 * run on their own (a short transition time), as against the real cloud.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../src/server';
import { cnClient, startTclocal } from '../../helpers';
import { selfSigned } from '../../../testkit/pem';
import { assertResponseShape } from '../../support/response-shape';
import { readsAsGone, retryable } from '../../support/terraform';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Terraform's retry loop: call until `done` says so, or give up. */
async function waitFor<T>(what: string, call: () => Promise<T>, done: (r: T) => boolean, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await call();
    if (done(r)) return r;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(r).slice(0, 300)}`);
    await sleep(20);
  }
}

/** A write as Terraform makes it: retried while the answer is a retryable code. */
async function tf(call: () => Promise<any>, timeoutMs = 5000): Promise<any> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (e) {
      if (!retryable((e as { code: string }).code) || Date.now() > end) throw e;
      await sleep(20);
    }
  }
}

describe('Terraform-like GAAP flow', () => {
  let server: RunningServer;
  let gaap: any;
  let tag: any;
  const ids: Record<string, string> = {};

  before(async () => {
    server = await startTclocal({ transitionMs: 30, rateLimits: false });
    gaap = cnClient('gaap', server, { language: 'en-US' });
    tag = cnClient('tag', server);
  });
  after(() => server.stop());

  it('creates a proxy and waits on the task of its RequestId; it is RUNNING when the task says SUCCESS', async () => {
    const created = await tf(() => gaap.CreateProxy({
      ProxyName: 'ci-test-gaap-proxy', ProjectId: 0, Bandwidth: 10, Concurrent: 2, AccessRegion: 'Beijing', RealServerRegion: 'Guangzhou',
      NetworkType: 'normal', ClientToken: 'dG9rZW4tMQ==',
    }));
    assertResponseShape('gaap', 'CreateProxy', created);
    ids.proxy = created.InstanceId;
    const task = await waitFor('proxy task', () => gaap.DescribeTaskStatus({ TaskId: created.RequestId }), (r: any) => r.Status !== 'RUNNING');
    assert.equal(task.Status, 'SUCCESS');
    const read = await gaap.DescribeProxies({ ProxyIds: [ids.proxy], Limit: 100, Offset: 0 });
    assertResponseShape('gaap', 'DescribeProxies', read);
    const p = read.ProxySet[0];
    assert.equal(p.Status, 'RUNNING');
    for (const f of ['ProxyId', 'ProxyName', 'ProjectId', 'Bandwidth', 'Concurrent', 'AccessRegion', 'RealServerRegion', 'Status', 'CreateTime', 'Domain', 'IP', 'Scalarable', 'ForwardIP']) {
      assert.notEqual(p[f], null, `${f} must not be null`);
      assert.notEqual(p[f], undefined, `${f} must be present`);
    }
    assert.ok(p.SupportProtocols.length > 0);
  });

  it('tags the proxy through the Tag API; DescribeProxies shows the tags', async () => {
    await tf(() => tag.ModifyResourceTags({ Resource: `qcs::gaap:ap-guangzhou:uin/:proxy/${ids.proxy}`, ReplaceTags: [{ TagKey: 'test', TagValue: 'test' }] }));
    const read = await gaap.DescribeProxies({ ProxyIds: [ids.proxy], Limit: 100, Offset: 0 });
    assert.deepEqual(read.ProxySet[0].TagSet, [{ TagKey: 'test', TagValue: 'test' }]);
    const byTag = await gaap.DescribeProxies({ TagSet: [{ TagKey: 'test', TagValue: 'test' }] });
    assert.deepEqual(byTag.ProxySet.map((x: any) => x.ProxyId), [ids.proxy]);
  });

  it('adds real servers after checking they do not exist yet, and tags one', async () => {
    for (const [key, ip] of [['rs1', '1.2.2.2'], ['rs2', '1.2.2.3']]) {
      const existing = await gaap.DescribeRealServers({ SearchValue: ip, ProjectId: -1, Limit: 50, Offset: 0 });
      assert.equal(existing.TotalCount, 0);
      const added = await tf(() => gaap.AddRealServers({ RealServerName: `ci-test-${key}`, RealServerIP: [ip], ProjectId: 0 }));
      assert.equal(added.RealServerSet.length, 1);
      ids[key] = added.RealServerSet[0].RealServerId;
    }
    // A search for 1.2.2.2 must not match 1.2.2.20-like neighbours or the other server.
    assert.equal((await gaap.DescribeRealServers({ SearchValue: '1.2.2.2', ProjectId: -1, Limit: 50, Offset: 0 })).TotalCount, 1);
    await tf(() => tag.ModifyResourceTags({ Resource: `qcs::gaap:ap-guangzhou:uin/:realServer/${ids.rs1}`, ReplaceTags: [{ TagKey: 'k', TagValue: 'v' }] }));
    const tags = await tag.DescribeResourceTagsByResourceIds({ ServiceType: 'gaap', ResourcePrefix: 'realServer', ResourceRegion: 'ap-guangzhou', ResourceIds: [ids.rs1], Limit: 20, Offset: 0 });
    assert.deepEqual(tags.Tags.map((t: any) => [t.ResourceId, t.TagKey, t.TagValue]), [[ids.rs1, 'k', 'v']]);
  });

  it('creates a TCP listener, waits for ListenerStatus 0, binds the real servers, reads it as Terraform does', async () => {
    const res = await tf(() => gaap.CreateTCPListeners({
      ListenerName: 'ci-test-l4', Scheduler: 'rr', RealServerType: 'IP', ProxyId: ids.proxy, Ports: [80], HealthCheck: 0,
      DelayLoop: 5, ConnectTimeout: 2, ClientIPMethod: 0, HealthyThreshold: 1, UnhealthyThreshold: 1,
    }));
    assert.equal(res.ListenerIds.length, 1);
    ids.tcp = res.ListenerIds[0];
    const ready = () => waitFor('TCP listener', () => gaap.DescribeTCPListeners({ ListenerId: ids.tcp, Limit: 50, Offset: 0 }), (r: any) => r.ListenerSet.length === 1 && r.ListenerSet[0].ListenerStatus === 0);
    await ready();
    await tf(() => gaap.BindListenerRealServers({
      ListenerId: ids.tcp,
      RealServerBindSet: [
        { RealServerId: ids.rs1, RealServerPort: 80, RealServerIP: '1.2.2.2', RealServerWeight: 1 },
        { RealServerId: ids.rs2, RealServerPort: 80, RealServerIP: '1.2.2.3', RealServerWeight: 1 },
      ],
    }));
    const read = await ready();
    assertResponseShape('gaap', 'DescribeTCPListeners', read);
    assert.deepEqual(read.ListenerSet[0].RealServerSet.map((s: any) => s.RealServerId).sort(), [ids.rs1, ids.rs2].sort());
    // Terraform reads both protocols: the other answers an empty set or a not-found it accepts.
    const udp = await gaap.DescribeUDPListeners({ ListenerId: ids.tcp, Limit: 50, Offset: 0 }).catch((e: any) => e);
    assert.ok(udp.ListenerSet?.length === 0 || udp.code === 'ResourceNotFound' || (udp.code === 'InvalidParameter' && /ListenerId/.test(udp.message)), JSON.stringify(udp));
  });

  it('creates a certificate, an HTTPS listener, a domain and a rule with bound real servers', async () => {
    const pem = selfSigned('www.example.com', { sans: ['*.example.com', 'example.com'] });
    ids.cert = (await tf(() => gaap.CreateCertificate({ CertificateType: 2, CertificateContent: pem.cert, CertificateKey: pem.key, CertificateAlias: 'foo' }))).CertificateId;
    ids.https = (await tf(() => gaap.CreateHTTPSListener({ ProxyId: ids.proxy, CertificateId: ids.cert, ForwardProtocol: 'HTTP', ListenerName: 'ci-test-l7', Port: 443, AuthType: 0 }))).ListenerId;
    const https = await waitFor('HTTPS listener', () => gaap.DescribeHTTPSListeners({ ListenerId: ids.https, ProxyId: ids.proxy }), (r: any) => r.ListenerSet.length === 1 && r.ListenerSet[0].ListenerStatus === 0);
    assertResponseShape('gaap', 'DescribeHTTPSListeners', https);
    assert.equal(https.ListenerSet[0].AuthType, 0);

    await tf(() => gaap.CreateDomain({ ListenerId: ids.https, Domain: 'www.example.com', CertificateId: 'default', IsDefaultServer: false }));
    await waitFor('domain', () => gaap.DescribeRules({ ListenerId: ids.https }), (r: any) => r.DomainRuleSet.some((d: any) => d.Domain === 'www.example.com'));

    const rule = await tf(() => gaap.CreateRule({
      ListenerId: ids.https, Domain: 'www.example.com', Path: '/', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 1,
      CheckParams: { DelayLoop: 5, ConnectTimeout: 2, Path: '/', Method: 'GET', StatusCode: [200] }, ForwardHost: 'default',
    }));
    ids.rule = rule.RuleId;
    const ruleReady = () => waitFor('rule', () => gaap.DescribeRules({ ListenerId: ids.https }), (r: any) => r.DomainRuleSet.flatMap((d: any) => d.RuleSet).some((x: any) => x.RuleId === ids.rule && x.RuleStatus === 0));
    await ruleReady();
    await tf(() => gaap.BindRuleRealServers({ RuleId: ids.rule, RealServerBindSet: [{ RealServerId: ids.rs1, RealServerPort: 8080, RealServerIP: '1.2.2.2', RealServerWeight: 1 }] }));
    await ruleReady();
    const byId = await gaap.DescribeRulesByRuleIds({ RuleIds: [ids.rule] });
    assertResponseShape('gaap', 'DescribeRulesByRuleIds', byId);
    assert.equal(byId.RuleSet[0].ForwardHost, 'default');
    assert.equal(byId.RuleSet[0].RealServerSet[0].RealServerId, ids.rs1);
  });

  it('adds a security policy (opened by proxy id) and a rule, custom headers and an error page', async () => {
    ids.policy = (await tf(() => gaap.CreateSecurityPolicy({ ProxyId: ids.proxy, DefaultAction: 'ACCEPT' }))).PolicyId;
    await tf(() => gaap.OpenSecurityPolicy({ ProxyId: ids.proxy }));
    const policy = await waitFor('policy BOUND', () => gaap.DescribeSecurityPolicyDetail({ PolicyId: ids.policy }), (r: any) => r.Status === 'BOUND');
    assertResponseShape('gaap', 'DescribeSecurityPolicyDetail', policy);
    const rules = await tf(() => gaap.CreateSecurityRules({ PolicyId: ids.policy, RuleList: [{ SourceCidr: '1.1.1.1', DestPortRange: '80', Protocol: 'TCP', AliasName: 'ci-test-gaap-sr', Action: 'ACCEPT' }] }));
    assert.equal(rules.RuleIdList.length, 1);
    ids.securityRule = rules.RuleIdList[0];
    const sr = await gaap.DescribeSecurityRules({ SecurityRuleIds: [ids.securityRule] });
    assert.equal(sr.SecurityRuleSet.length, 1);

    await tf(() => gaap.CreateCustomHeader({ RuleId: ids.rule, Headers: [{ HeaderName: 'HeaderName1', HeaderValue: 'HeaderValue1' }, { HeaderName: 'HeaderName2', HeaderValue: 'HeaderValue2' }] }));
    assert.equal((await gaap.DescribeCustomHeader({ RuleId: ids.rule })).Headers.length, 2);

    ids.errorPage = (await tf(() => gaap.CreateDomainErrorPageInfo({ ListenerId: ids.https, Domain: 'www.example.com', ErrorNos: [404, 503], Body: 'bad request' }))).ErrorPageId;
    await waitFor('error page', () => gaap.DescribeDomainErrorPageInfoByIds({ ErrorPageIds: [ids.errorPage] }), (r: any) => r.ErrorPageSet.length === 1);
  });

  it('tears everything down in Terraform’s order, with its waits and not-found checks', async () => {
    // Error page: delete, then ByIds until empty (an unknown id must give an empty set, not an error).
    await tf(() => gaap.DeleteDomainErrorPageInfo({ ErrorPageId: ids.errorPage }));
    await waitFor('error page gone', () => gaap.DescribeDomainErrorPageInfoByIds({ ErrorPageIds: [ids.errorPage] }), (r: any) => r.ErrorPageSet.length === 0);
    // Custom headers: cleared by a create without headers.
    await tf(() => gaap.CreateCustomHeader({ RuleId: ids.rule }));
    assert.equal((await gaap.DescribeCustomHeader({ RuleId: ids.rule })).Headers.length, 0);
    // Security rule, then the policy: close, wait UNBIND, delete, wait for an error.
    await tf(() => gaap.DeleteSecurityRules({ PolicyId: ids.policy, RuleIdList: [ids.securityRule] }));
    await tf(() => gaap.CloseSecurityPolicy({ ProxyId: ids.proxy }));
    await waitFor('policy UNBIND', () => gaap.DescribeSecurityPolicyDetail({ PolicyId: ids.policy }), (r: any) => r.Status === 'UNBIND');
    await tf(() => gaap.DeleteSecurityPolicy({ PolicyId: ids.policy }));
    await waitFor('policy gone', async () => readsAsGone(() => gaap.DescribeSecurityPolicyDetail({ PolicyId: ids.policy }), (e) => e.code === 'ResourceNotFound' || (e.code === 'InvalidParameter' && /PolicyId/.test(e.message))), (g) => g);
    // Rule (Force 1), then the domain (Force 0), waiting on DescribeRules.
    await tf(() => gaap.DeleteRule({ ListenerId: ids.https, RuleId: ids.rule, Force: 1 }));
    await waitFor('rule gone', () => gaap.DescribeRules({ ListenerId: ids.https }), (r: any) => !r.DomainRuleSet.flatMap((d: any) => d.RuleSet).some((x: any) => x.RuleId === ids.rule));
    await tf(() => gaap.DeleteDomain({ ListenerId: ids.https, Domain: 'www.example.com', Force: 0 }));
    await waitFor('domain gone', () => gaap.DescribeRules({ ListenerId: ids.https }), (r: any) => !r.DomainRuleSet.some((d: any) => d.Domain === 'www.example.com'));
    // Listeners: Force 0, the TCP listener with its real servers still bound, as Terraform deletes it;
    // the id must be reported in OperationSucceedListenerSet; then the describe empties.
    for (const [id, describe] of [[ids.https, 'DescribeHTTPSListeners'], [ids.tcp, 'DescribeTCPListeners']] as const) {
      const del = await tf(() => gaap.DeleteListeners({ ProxyId: ids.proxy, ListenerIds: [id], Force: 0 }));
      assertResponseShape('gaap', 'DeleteListeners', del);
      assert.deepEqual(del.OperationSucceedListenerSet, [id]);
      await waitFor(`${id} gone`, () => gaap[describe]({ ListenerId: id }).catch((e: any) => e), (r: any) =>
        r.ListenerSet?.length === 0 || r.code === 'ResourceNotFound' || (r.code === 'InvalidParameter' && r.message === `ListenerId(${id}) Not Exist.`));
    }
    // Certificate: delete, then the detail must fail with exactly "CertificateId not found".
    await tf(() => gaap.DeleteCertificate({ CertificateId: ids.cert }));
    assert.ok(await readsAsGone(() => gaap.DescribeCertificateDetail({ CertificateId: ids.cert }), (e) => e.message === 'CertificateId not found'));
    // Real servers: no wait.
    await tf(() => gaap.RemoveRealServers({ RealServerIds: [ids.rs1, ids.rs2] }));
    assert.equal((await gaap.DescribeRealServers({ ProjectId: -1, Limit: 50, Offset: 0 })).TotalCount, 0);
    // Proxy: DestroyProxies Force 1; nothing in InvalidStatusInstanceSet; then DescribeProxies until empty.
    const destroyed = await tf(() => gaap.DestroyProxies({ ProxyIds: [ids.proxy], Force: 1, ClientToken: 'ZGVzdHJveS0x' }));
    assert.deepEqual(destroyed.InvalidStatusInstanceSet, []);
    await waitFor('proxy gone', () => gaap.DescribeProxies({ ProxyIds: [ids.proxy] }).catch((e: any) => e), (r: any) => r.ProxySet?.length === 0 || r.code === 'ResourceNotFound');
  });
});

describe('CreateTime back-dating for Terraform', () => {
  it('--gaap-create-time-backdate reports new proxies older, so Terraform’s 2-minute destroy wait is already over', async () => {
    const server = await startTclocal({ rateLimits: false, gaapCreateTimeBackdate: 120 });
    try {
      const gaap = cnClient('gaap', server);
      const before = Math.floor(Date.now() / 1000);
      const { InstanceId } = await gaap.CreateProxy({ ProxyName: 'old', ProjectId: 0, Bandwidth: 10, Concurrent: 2, AccessRegion: 'Beijing', RealServerRegion: 'Guangzhou' });
      const p = (await gaap.DescribeProxies({ ProxyIds: [InstanceId] })).ProxySet[0];
      assert.ok(p.CreateTime <= before - 119 && p.CreateTime >= before - 122, `CreateTime ${p.CreateTime} vs now ${before}`);
    } finally {
      await server.stop();
    }
  });
});
