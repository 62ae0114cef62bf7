import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../../src/server';
import { ACCOUNT_A, ACCOUNT_B, cnClient, errorCode, intlClient, startTclocal } from '../../../helpers';
import { assertResponseShape } from '../../../support/response-shape';
import { inOneSecond } from '../../../support/one-second';

async function createProxy(gaap: any, name = 'rs-test'): Promise<string> {
  const res = await gaap.CreateProxy({ ProjectId: 0, ProxyName: name, AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 });
  return res.InstanceId;
}

const tcp = { ListenerName: 'l4', Scheduler: 'wrr', HealthCheck: 0, RealServerType: 'IP' };

describe('GAAP real servers', () => {
  let server: RunningServer;
  let gaap: any;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
    gaap = cnClient('gaap', server);
  });
  after(() => server.stop());

  it('adds one real server per address with name, project and tags', async () => {
    const res = await gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['1.2.2.2', 'origin.example.com'], RealServerName: 'origins', TagSet: [{ TagKey: 'env', TagValue: 'prod' }] });
    assertResponseShape('gaap', 'AddRealServers', res);
    assert.equal(res.RealServerSet.length, 2);
    assert.match(res.RealServerSet[0].RealServerId, /^rs-[a-z0-9]{8}$/);
    assert.deepEqual(res.RealServerSet.map((r: any) => r.RealServerIP), ['1.2.2.2', 'origin.example.com']);
    const list = await gaap.DescribeRealServers({ ProjectId: 0 });
    assertResponseShape('gaap', 'DescribeRealServers', list);
    assert.equal(list.TotalCount, 2);
    const rs = list.RealServerSet.find((r: any) => r.RealServerId === res.RealServerSet[1].RealServerId);
    assert.deepEqual(rs, { RealServerId: res.RealServerSet[1].RealServerId, RealServerIP: 'origin.example.com', RealServerName: 'origins', ProjectId: 0, TagSet: [{ TagKey: 'env', TagValue: 'prod' }] });
  });

  it('refuses duplicates, bad addresses, projects and tags', async () => {
    assert.equal(await errorCode(gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['1.2.2.2'], RealServerName: 'dup' })), 'InvalidParameterValue.DuplicateRS');
    assert.equal(await errorCode(gaap.AddRealServers({ ProjectId: 3, RealServerIP: ['ORIGIN.example.com'], RealServerName: 'dup' })), 'InvalidParameterValue.DuplicateRS');
    assert.equal(await errorCode(gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['5.5.5.5', '5.5.5.5'], RealServerName: 'dup' })), 'InvalidParameterValue.DuplicateRS');
    assert.equal(await errorCode(gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['1.2.3.400'], RealServerName: 'bad' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['not an address'], RealServerName: 'bad' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.AddRealServers({ ProjectId: 0, RealServerIP: [], RealServerName: 'bad' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.AddRealServers({ ProjectId: -1, RealServerIP: ['6.6.6.6'], RealServerName: 'bad' })), 'InvalidParameterValue.ProjectIdNotBelong');
    assert.equal(
      await errorCode(gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['6.6.6.6'], RealServerName: 'bad', TagSet: [{ TagKey: 'a', TagValue: '1' }, { TagKey: 'a', TagValue: '2' }] })),
      'InvalidParameterValue.InvalidTags',
    );
    assert.equal(await errorCode(gaap.AddRealServers({ ProjectId: 0, RealServerName: 'bad' })), 'MissingParameter');
    // nothing of the refused calls was added
    assert.equal((await gaap.DescribeRealServers({ ProjectId: -1, SearchValue: '5.5.5.5' })).TotalCount, 0);
  });

  it('searches, filters and pages real servers', async () => {
    await gaap.AddRealServers({ ProjectId: 1, RealServerIP: ['1.2.2.20', '10.0.0.1', '10.0.0.2'], RealServerName: 'p1', TagSet: [{ TagKey: 'team', TagValue: 'a' }] });
    await gaap.AddRealServers({ ProjectId: 2, RealServerIP: ['10.0.0.3'], RealServerName: 'p2', TagSet: [{ TagKey: 'team', TagValue: 'b' }] });
    assert.equal((await gaap.DescribeRealServers({ ProjectId: -1 })).TotalCount, 6);
    assert.equal((await gaap.DescribeRealServers({ ProjectId: 1 })).TotalCount, 3);
    // a complete IP matches only itself; anything else matches by substring
    const exact = await gaap.DescribeRealServers({ ProjectId: -1, SearchValue: '1.2.2.2' });
    assert.deepEqual(exact.RealServerSet.map((r: any) => r.RealServerIP), ['1.2.2.2']);
    assert.equal((await gaap.DescribeRealServers({ ProjectId: -1, SearchValue: '10.0.0' })).TotalCount, 3);
    assert.equal((await gaap.DescribeRealServers({ ProjectId: -1, SearchValue: 'EXAMPLE' })).TotalCount, 1);
    const byName = await gaap.DescribeRealServers({ ProjectId: -1, Filters: [{ Name: 'RealServerName', Values: ['p2', 'origins'] }] });
    assert.equal(byName.TotalCount, 3);
    const byIp = await gaap.DescribeRealServers({ ProjectId: -1, Filters: [{ Name: 'RealServerIP', Values: ['10.0.0.2'] }] });
    assert.equal(byIp.RealServerSet[0].RealServerName, 'p1');
    const byTags = await gaap.DescribeRealServers({ ProjectId: -1, TagSet: [{ TagKey: 'team', TagValue: 'b' }, { TagKey: 'env', TagValue: 'prod' }] });
    assert.equal(byTags.TotalCount, 3);
    assert.equal((await gaap.DescribeRealServers({ ProjectId: -1, TagSet: [{ TagKey: 'team', TagValue: 'c' }] })).TotalCount, 0);
    const page = await gaap.DescribeRealServers({ ProjectId: -1, Offset: 4, Limit: 3 });
    assert.equal(page.TotalCount, 6);
    assert.equal(page.RealServerSet.length, 2);
    const scanPage = await gaap.DescribeRealServers({ ProjectId: 1, SearchValue: '.', Offset: 1, Limit: 1 });
    assert.equal(scanPage.TotalCount, 3);
    assert.equal(scanPage.RealServerSet.length, 1);
    assert.equal(await errorCode(gaap.DescribeRealServers({ ProjectId: -1, Limit: 51 })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.DescribeRealServers({ ProjectId: -1, Filters: [{ Name: 'ProjectId', Values: ['1'] }] })), 'InvalidParameterValue');
    const six = Array.from({ length: 6 }, (_, i) => ({ TagKey: `k${i}`, TagValue: 'v' }));
    assert.equal(await errorCode(gaap.DescribeRealServers({ ProjectId: -1, TagSet: six })), 'InvalidParameterValue');
  });

  it('renames real servers', async () => {
    const { RealServerSet } = await gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['7.7.7.7'], RealServerName: 'old' });
    const res = await gaap.ModifyRealServerName({ RealServerId: RealServerSet[0].RealServerId, RealServerName: 'new' });
    assertResponseShape('gaap', 'ModifyRealServerName', res);
    const [rs] = (await gaap.DescribeRealServers({ ProjectId: 0, SearchValue: '7.7.7.7' })).RealServerSet;
    assert.equal(rs.RealServerName, 'new');
    assert.equal(await errorCode(gaap.ModifyRealServerName({ RealServerId: 'rs-00000000', RealServerName: 'x' })), 'ResourceNotFound');
  });

  it('binds real servers to TCP/UDP listeners as a full replacement', async () => {
    const proxyId = await createProxy(gaap);
    const [listenerId] = (await gaap.CreateTCPListeners({ ...tcp, ProxyId: proxyId, Ports: [80], FailoverSwitch: 1 })).ListenerIds;
    const [udpId] = (await gaap.CreateUDPListeners({ ListenerName: 'u', Ports: [53], Scheduler: 'rr', RealServerType: 'DOMAIN', ProxyId: proxyId })).ListenerIds;
    const ips = (await gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['20.0.0.1', '20.0.0.2', '20.0.0.3'], RealServerName: 'bind' })).RealServerSet;
    const dom = (await gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['dns.example.org'], RealServerName: 'dom' })).RealServerSet[0];
    const entry = (rs: any, port = 8080, extra = {}) => ({ RealServerId: rs.RealServerId, RealServerIP: rs.RealServerIP, RealServerPort: port, ...extra });

    const res = await gaap.BindListenerRealServers({
      ListenerId: listenerId,
      RealServerBindSet: [entry(ips[0], 8080, { RealServerWeight: 10, RealServerFailoverRole: 'master' }), entry(ips[1], 8081, { RealServerFailoverRole: 'slave' })],
    });
    assertResponseShape('gaap', 'BindListenerRealServers', res);
    const view = await gaap.DescribeListenerRealServers({ ListenerId: listenerId });
    assertResponseShape('gaap', 'DescribeListenerRealServers', view);
    assert.equal(view.BindRealServerTotalCount, 2);
    assert.deepEqual(view.BindRealServerSet[0], {
      RealServerId: ips[0].RealServerId, RealServerIP: '20.0.0.1', RealServerWeight: 10, RealServerStatus: 0, RealServerPort: 8080, DownIPList: [], RealServerFailoverRole: 'master',
    });
    assert.equal(view.BindRealServerSet[1].RealServerWeight, 1);
    // bindable: every IP real server of the account, not the domain one
    assert.ok(view.RealServerSet.some((r: any) => r.RealServerId === ips[2].RealServerId));
    assert.ok(!view.RealServerSet.some((r: any) => r.RealServerId === dom.RealServerId));
    assert.equal(view.TotalCount, view.RealServerSet.length);
    const [l] = (await gaap.DescribeTCPListeners({ ListenerId: listenerId })).ListenerSet;
    assert.equal(l.RealServerSet.length, 2);
    assert.equal(l.BindStatus, 1);

    // replacement: exactly the new set
    await gaap.BindListenerRealServers({ ListenerId: listenerId, RealServerBindSet: [entry(ips[2])] });
    assert.deepEqual((await gaap.DescribeListenerRealServers({ ListenerId: listenerId })).BindRealServerSet.map((r: any) => r.RealServerId), [ips[2].RealServerId]);

    // domain real servers go to DOMAIN listeners only
    const udp = await gaap.BindListenerRealServers({ ListenerId: udpId, RealServerBindSet: [entry(dom, 53)] });
    assertResponseShape('gaap', 'BindListenerRealServers', udp);
    const [u] = (await gaap.DescribeUDPListeners({ ListenerId: udpId })).ListenerSet;
    assert.equal(u.RealServerSet[0].RealServerIP, 'dns.example.org');
    assert.equal(u.BindStatus, 0);
    assert.equal(await errorCode(gaap.BindListenerRealServers({ ListenerId: udpId, RealServerBindSet: [entry(ips[0], 53)] })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.BindListenerRealServers({ ListenerId: listenerId, RealServerBindSet: [entry(dom)] })), 'InvalidParameterValue');

    // errors
    assert.equal(await errorCode(gaap.BindListenerRealServers({ ListenerId: listenerId, RealServerBindSet: [{ ...entry(ips[0]), RealServerIP: '20.0.0.9' }] })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.BindListenerRealServers({ ListenerId: listenerId, RealServerBindSet: [{ ...entry(ips[0]), RealServerId: 'rs-00000000' }] })), 'InvalidParameterValue.RealServerNotBelong');
    assert.equal(await errorCode(gaap.BindListenerRealServers({ ListenerId: listenerId, RealServerBindSet: [entry(ips[0], 0)] })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.BindListenerRealServers({ ListenerId: listenerId, RealServerBindSet: [entry(ips[0], 80, { RealServerWeight: 0 })] })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.BindListenerRealServers({ ListenerId: listenerId, RealServerBindSet: [entry(ips[0], 80, { RealServerFailoverRole: 'backup' })] })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.BindListenerRealServers({ ListenerId: listenerId, RealServerBindSet: [entry(ips[0]), entry(ips[0])] })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.BindListenerRealServers({ ListenerId: 'listener-00000000' })), 'ResourceNotFound');
    const many = Array.from({ length: 101 }, (_, i) => entry(ips[0], 1000 + i));
    assert.equal(await errorCode(gaap.BindListenerRealServers({ ListenerId: listenerId, RealServerBindSet: many })), 'FailedOperation.LimitRealServerNum');
    const http = (await gaap.CreateHTTPListener({ ListenerName: 'h', Port: 8000, ProxyId: proxyId })).ListenerId;
    assert.equal(await errorCode(gaap.BindListenerRealServers({ ListenerId: http, RealServerBindSet: [entry(ips[0])] })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.DescribeListenerRealServers({ ListenerId: http })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.DescribeListenerRealServers({ ListenerId: 'listener-00000000' })), 'ResourceNotFound');
    // the failed calls left the binding as it was
    assert.equal((await gaap.DescribeListenerRealServers({ ListenerId: listenerId })).BindRealServerTotalCount, 1);

    // no set: unbind all
    await gaap.BindListenerRealServers({ ListenerId: listenerId });
    assert.equal((await gaap.DescribeListenerRealServers({ ListenerId: listenerId })).BindRealServerTotalCount, 0);
  });

  it('reports binding status and refuses to remove bound real servers', async () => {
    const proxyId = await createProxy(gaap, 'status');
    const [listenerId] = (await gaap.CreateTCPListeners({ ...tcp, ProxyId: proxyId, Ports: [443] })).ListenerIds;
    const [a, b] = (await gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['30.0.0.1', '30.0.0.2'], RealServerName: 'st' })).RealServerSet;
    await gaap.BindListenerRealServers({ ListenerId: listenerId, RealServerBindSet: [{ RealServerId: a.RealServerId, RealServerIP: a.RealServerIP, RealServerPort: 443 }] });
    const status = await gaap.DescribeRealServersStatus({ RealServerIds: [a.RealServerId, b.RealServerId] });
    assertResponseShape('gaap', 'DescribeRealServersStatus', status);
    assert.equal(status.TotalCount, 2);
    assert.deepEqual(status.RealServerStatusSet[0], { RealServerId: a.RealServerId, BindStatus: 1, ProxyId: proxyId, GroupId: null });
    assert.deepEqual(status.RealServerStatusSet[1], { RealServerId: b.RealServerId, BindStatus: 0, ProxyId: '', GroupId: null });
    assert.equal(await errorCode(gaap.DescribeRealServersStatus({ RealServerIds: ['rs-00000000'] })), 'InvalidParameterValue.RealServerNotBelong');

    assert.equal(await errorCode(gaap.RemoveRealServers({ RealServerIds: [b.RealServerId, a.RealServerId] })), 'FailedOperation.RealServerAlreadyBound');
    assert.equal(await errorCode(gaap.RemoveRealServers({ RealServerIds: ['rs-00000000'] })), 'ResourceNotFound');
    // all or nothing: b is still there
    assert.equal((await gaap.DescribeRealServers({ ProjectId: 0, SearchValue: '30.0.0.2' })).TotalCount, 1);
    const removed = await gaap.RemoveRealServers({ RealServerIds: [b.RealServerId] });
    assertResponseShape('gaap', 'RemoveRealServers', removed);
    assert.equal((await gaap.DescribeRealServers({ ProjectId: 0, SearchValue: '30.0.0.2' })).TotalCount, 0);
    // after unbinding (here: deleting the listener with Force) it can go
    await gaap.DeleteListeners({ ProxyId: proxyId, ListenerIds: [listenerId], Force: 1 });
    assert.equal((await gaap.DescribeRealServersStatus({ RealServerIds: [a.RealServerId] })).RealServerStatusSet[0].BindStatus, 0);
    await gaap.RemoveRealServers({ RealServerIds: [a.RealServerId] });
    assert.equal(await errorCode(gaap.DescribeRealServersStatus({ RealServerIds: [a.RealServerId] })), 'InvalidParameterValue.RealServerNotBelong');
  });

  it('counts real servers bound to L7 rules as bound', async () => {
    const proxyId = await createProxy(gaap, 'l7');
    const http = (await gaap.CreateHTTPListener({ ListenerName: 'h', Port: 80, ProxyId: proxyId })).ListenerId;
    await gaap.CreateDomain({ ListenerId: http, Domain: 'www.example.net' });
    const { RuleId } = await gaap.CreateRule({
      ListenerId: http, Domain: 'www.example.net', Path: '/', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 0,
      CheckParams: { DelayLoop: 5, ConnectTimeout: 2, Path: '/', Method: 'GET', StatusCode: [200] },
    });
    const [rs] = (await gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['40.0.0.1'], RealServerName: 'l7' })).RealServerSet;
    await gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: rs.RealServerId, RealServerIP: rs.RealServerIP, RealServerPort: 80 }] });
    const [s] = (await gaap.DescribeRealServersStatus({ RealServerIds: [rs.RealServerId] })).RealServerStatusSet;
    assert.equal(s.BindStatus, 1);
    assert.equal(s.ProxyId, proxyId);
    assert.equal(await errorCode(gaap.RemoveRealServers({ RealServerIds: [rs.RealServerId] })), 'FailedOperation.RealServerAlreadyBound');
    assert.equal(await errorCode(gaap.DeleteListeners({ ProxyId: proxyId, ListenerIds: [http], Force: 0 })), 'FailedOperation.RealServerAlreadyBound');
  });

  it('takes form-encoded lists and structures from the international SDK', async () => {
    const intl = intlClient('gaap', server);
    const proxyId = await createProxy(gaap, 'intl');
    const created = await intl.CreateTCPListeners({ ...tcp, ProxyId: proxyId, Ports: [7001, 7002], HealthCheck: 1, DelayLoop: 6, ConnectTimeout: 5 });
    assert.equal(created.ListenerIds.length, 2);
    const [rs] = (await intl.AddRealServers({ ProjectId: 0, RealServerIP: ['60.0.0.1'], RealServerName: 'intl', TagSet: [{ TagKey: 'k', TagValue: 'v' }] })).RealServerSet;
    await intl.BindListenerRealServers({ ListenerId: created.ListenerIds[1], RealServerBindSet: [{ RealServerId: rs.RealServerId, RealServerIP: rs.RealServerIP, RealServerPort: 81, RealServerWeight: 7 }] });
    const view = await intl.DescribeListenerRealServers({ ListenerId: created.ListenerIds[1] });
    assert.equal(view.BindRealServerSet[0].RealServerWeight, 7);
    const list = await intl.DescribeRealServers({ ProjectId: -1, TagSet: [{ TagKey: 'k', TagValue: 'v' }] });
    assert.deepEqual(list.RealServerSet.map((r: any) => r.RealServerId), [rs.RealServerId]);
  });

  it('keeps accounts apart', async () => {
    const a = cnClient('gaap', server, { account: ACCOUNT_A });
    const b = cnClient('gaap', server, { account: ACCOUNT_B });
    const [rs] = (await a.AddRealServers({ ProjectId: 0, RealServerIP: ['50.0.0.1'], RealServerName: 'mine' })).RealServerSet;
    assert.equal((await b.DescribeRealServers({ ProjectId: -1 })).TotalCount, 0);
    assert.equal(await errorCode(b.ModifyRealServerName({ RealServerId: rs.RealServerId, RealServerName: 'x' })), 'ResourceNotFound');
    assert.equal(await errorCode(b.RemoveRealServers({ RealServerIds: [rs.RealServerId] })), 'ResourceNotFound');
    assert.equal(await errorCode(b.DescribeRealServersStatus({ RealServerIds: [rs.RealServerId] })), 'InvalidParameterValue.RealServerNotBelong');
    // the same address is not a duplicate in another account
    assert.equal((await b.AddRealServers({ ProjectId: 0, RealServerIP: ['50.0.0.1'], RealServerName: 'theirs' })).RealServerSet.length, 1);
    const proxyB = await createProxy(b, 'b');
    const [lb] = (await b.CreateTCPListeners({ ...tcp, ProxyId: proxyB, Ports: [80] })).ListenerIds;
    assert.equal(
      await errorCode(b.BindListenerRealServers({ ListenerId: lb, RealServerBindSet: [{ RealServerId: rs.RealServerId, RealServerIP: rs.RealServerIP, RealServerPort: 80 }] })),
      'InvalidParameterValue.RealServerNotBelong',
    );
    assert.equal((await a.DescribeRealServers({ ProjectId: -1 })).RealServerSet[0].RealServerName, 'mine');
  });
});

describe('GAAP real-server rate limits', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: true });
  });
  after(() => server.stop());

  it('allows DescribeRealServers well beyond the default 20 calls per second', async () => {
    const gaap = cnClient('gaap', server);
    // Each burst of 40 is counted in one one-second window.
    const results = await inOneSecond(async () => undefined, () => Promise.all(Array.from({ length: 40 }, () => gaap.DescribeRealServers({ ProjectId: -1 }).then(() => 'ok', (e: any) => e.code))));
    assert.deepEqual(results.filter((r) => r !== 'ok'), []);
    const limited = await inOneSecond(async () => undefined, () => Promise.all(Array.from({ length: 40 }, () => gaap.DescribeRealServersStatus({ RealServerIds: ['rs-00000000'] }).then(() => 'ok', (e: any) => e.code))));
    assert.equal(limited.filter((r) => r === 'RequestLimitExceeded').length, 20, String(limited));
  });
});
