/**
 * GAAP proxies through the official SDK: creation and its task, Describe
 * paging/filters/tags/order, open/close/destroy, modifications,
 * idempotency, transient statuses and account isolation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../../src/server';
import { ACCOUNT_A, ACCOUNT_B, advance, cnClient, DEFAULT_ACCOUNT, errorCode, intlClient, MANUAL_TRANSITIONS, startTclocal } from '../../../helpers';
import { assertResponseShape } from '../../../support/response-shape';

const shape = (action: string, res: any) => {
  assertResponseShape('gaap', action, res);
  return res;
};

const base = { ProjectId: 0, ProxyName: 'p', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 };

async function create(client: any, extra: Record<string, unknown> = {}): Promise<string> {
  const res = shape('CreateProxy', await client.CreateProxy({ ...base, ...extra }));
  assert.match(res.InstanceId, /^link-[a-z0-9]{8}$/);
  return res.InstanceId;
}

async function detail(client: any, id: string): Promise<any> {
  return shape('DescribeProxyDetail', await client.DescribeProxyDetail({ ProxyId: id })).ProxyDetail;
}

describe('gaap proxies', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
  });
  after(() => server.stop());

  it('CreateProxy stores a full ProxyInfo, RUNNING once its task is done', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_A });
    const res = await c.CreateProxy({ ...base, ProxyName: 'web', TagSet: [{ TagKey: 'env', TagValue: 'prod' }] });
    shape('CreateProxy', res);
    const task = shape('DescribeTaskStatus', await c.DescribeTaskStatus({ TaskId: res.RequestId }));
    assert.equal(task.Status, 'SUCCESS');
    const p = await detail(c, res.InstanceId);
    assert.equal(p.ProxyId, res.InstanceId);
    assert.equal(p.InstanceId, res.InstanceId);
    assert.equal(p.Status, 'RUNNING');
    assert.equal(p.ProxyName, 'web');
    assert.equal(p.Version, '3.0');
    assert.deepEqual(p.SupportProtocols, ['TCP', 'UDP', 'HTTP', 'HTTPS']);
    assert.equal(p.Domain, `${res.InstanceId}.gaapqcloud.com.cn`);
    assert.match(p.IP, /^\d+\.\d+\.\d+\.\d+$/);
    assert.match(p.ForwardIP, /^(\d+\.\d+\.\d+\.\d+;)+$/);
    assert.equal(p.AccessRegionInfo.RegionId, 'Hongkong');
    assert.equal(p.RealServerRegionInfo.RegionId, 'Beijing');
    assert.deepEqual(p.TagSet, [{ TagKey: 'env', TagValue: 'prod' }]);
    assert.equal(p.GroupId, null);
    assert.equal(p.IPAddressVersion, 'IPv4');
    assert.equal(p.PackageType, 'Thunder');
    assert.equal(p.NetworkType, 'normal');
    assert.equal(p.IPList[0].IP, p.IP);
    assert.equal(typeof p.CreateTime, 'number');
    assert.ok(Math.abs(p.CreateTime - Date.now() / 1000) < 60);
  });

  it('CreateProxy validates regions, capacity, names and tags', async () => {
    const c = cnClient('gaap', server);
    // CreateProxy's error list has no Unknown*Region codes: plain InvalidParameterValue.
    assert.equal(await errorCode(c.CreateProxy({ ...base, AccessRegion: 'Atlantis' })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.CreateProxy({ ...base, AccessRegion: 'SL_AZURE_EastUS' })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.CreateProxy({ ...base, AccessRegion: 'Beijing' })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.CreateProxy({ ...base, RealServerRegion: 'Mars' })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.CreateProxy({ ...base, Bandwidth: 15 })), 'InvalidParameterValue.InvalidBandwidth');
    assert.equal(await errorCode(c.CreateProxy({ ...base, Concurrent: 3 })), 'InvalidParameterValue.InvalidConcurrency');
    assert.equal(await errorCode(c.CreateProxy({ ...base, RealServerRegion: undefined })), 'MissingParameter');
    assert.equal(await errorCode(c.CreateProxy({ ...base, ProxyName: 'x'.repeat(33) })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.CreateProxy({ ...base, IPAddressVersion: 'IPv5' })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.CreateProxy({ ...base, TagSet: [{ TagKey: '', TagValue: 'v' }] })), 'InvalidParameterValue.InvalidTags');
    assert.equal(await errorCode(c.CreateProxy({ ...base, GroupId: 'lg-nothere1' })), 'ResourceNotFound');
    assert.equal(await errorCode(c.CreateProxy({ ...base, ClonedProxyId: 'link-nothere1' })), 'ResourceNotFound');
    assert.equal(await errorCode(c.CreateProxy({ ...base, ProjectId: -1 })), 'InvalidParameterValue.ProjectIdNotBelong');
    const all = await c.DescribeProxies({});
    assert.equal(all.TotalCount, 0, 'no failed call left a proxy behind');
  });

  it('accepts the mainland pair Terraform\'s acceptance tests use (Beijing → Guangzhou)', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_A });
    const id = await create(c, { ProxyName: 'ci-test-gaap-proxy', AccessRegion: 'Beijing', RealServerRegion: 'Guangzhou', NetworkType: 'normal', ClientToken: 'dGYtcmFuZG9t' });
    const p = (await c.DescribeProxies({ ProxyIds: [id], Limit: 100, Offset: 0 })).ProxySet[0];
    assert.equal(p.AccessRegion, 'Beijing');
    assert.equal(p.RealServerRegion, 'Guangzhou');
    assert.equal(p.Status, 'RUNNING');
    await c.DestroyProxies({ ProxyIds: [id], Force: 1 });
  });

  it('CreateProxy with a ClientToken is idempotent', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_B });
    const first = await c.CreateProxy({ ...base, ClientToken: 'token-1' });
    const again = shape('CreateProxy', await c.CreateProxy({ ...base, ClientToken: 'token-1' }));
    assert.equal(again.InstanceId, first.InstanceId);
    assert.equal(await errorCode(c.CreateProxy({ ...base, ProxyName: 'other', ClientToken: 'token-1' })), 'FailedOperation.DuplicatedRequest');
    assert.equal(await errorCode(c.CloseProxies({ ProxyIds: [first.InstanceId], ClientToken: 'token-1' })), 'FailedOperation.DuplicatedRequest');
    const list = await c.DescribeProxies({});
    assert.equal(list.TotalCount, 1);
    // A close replayed with its token answers the first result and does nothing more.
    const close1 = shape('CloseProxies', await c.CloseProxies({ ProxyIds: [first.InstanceId], ClientToken: 'close-1' }));
    assert.deepEqual(close1.InvalidStatusInstanceSet, []);
    const close2 = shape('CloseProxies', await c.CloseProxies({ ProxyIds: [first.InstanceId], ClientToken: 'close-1' }));
    assert.deepEqual(close2.InvalidStatusInstanceSet, []);
    const close3 = await c.CloseProxies({ ProxyIds: [first.InstanceId] });
    assert.deepEqual(close3.InvalidStatusInstanceSet, [first.InstanceId]);
  });

  it('accounts do not see each other\'s proxies', async () => {
    const a = cnClient('gaap', server, { account: ACCOUNT_A });
    const b = cnClient('gaap', server, { account: ACCOUNT_B });
    const id = await create(a, { ProxyName: 'iso' });
    assert.equal(await errorCode(b.DescribeProxyDetail({ ProxyId: id })), 'ResourceNotFound');
    assert.equal(await errorCode(b.CloseProxies({ ProxyIds: [id] })), 'ResourceNotFound');
    const listB = await b.DescribeProxies({ ProxyIds: [id] });
    assert.equal(listB.TotalCount, 0);
    const listA = shape('DescribeProxies', await a.DescribeProxies({ ProxyIds: [id] }));
    assert.equal(listA.TotalCount, 1);
  });

  it('clones only RUNNING proxies, inheriting what the request leaves out', async () => {
    const c = cnClient('gaap', server);
    const src = await create(c, { RealServerRegion: 'Europe', AccessRegion: 'Japan', PackageType: 'Accelerator', TagSet: [{ TagKey: 'k', TagValue: 'v' }] });
    const clone = await c.CreateProxy({ ...base, RealServerRegion: undefined, AccessRegion: 'Korea', ClonedProxyId: src });
    const p = await detail(c, clone.InstanceId);
    assert.equal(p.RealServerRegion, 'Europe');
    assert.equal(p.PackageType, 'Accelerator');
    assert.deepEqual(p.TagSet, [{ TagKey: 'k', TagValue: 'v' }]);
    await c.CloseProxies({ ProxyIds: [src] });
    assert.equal(await errorCode(c.CreateProxy({ ...base, ClonedProxyId: src })), 'FailedOperation');
    await c.DestroyProxies({ ProxyIds: [src, clone.InstanceId], Force: 1 });
  });

  describe('DescribeProxies', () => {
    const c = () => cnClient('gaap', server, { account: DEFAULT_ACCOUNT });
    const ids: string[] = [];
    before(async () => {
      const existing = await c().DescribeProxies({ Limit: 100 });
      if (existing.TotalCount > 0) await c().DestroyProxies({ ProxyIds: existing.ProxySet.map((p: any) => p.ProxyId), Force: 1 });
      const specs = [
        { AccessRegion: 'Hongkong', Bandwidth: 50, Concurrent: 5, ProjectId: 0, TagSet: [{ TagKey: 'team', TagValue: 'a' }] },
        { AccessRegion: 'Japan', Bandwidth: 10, Concurrent: 20, ProjectId: 7, TagSet: [{ TagKey: 'team', TagValue: 'b' }] },
        { AccessRegion: 'Hongkong', Bandwidth: 200, Concurrent: 2, ProjectId: 0, IPAddressVersion: 'IPv6' },
        { AccessRegion: 'Korea', Bandwidth: 20, Concurrent: 10, ProjectId: 7, TagSet: [{ TagKey: 'team', TagValue: 'c' }] },
        { AccessRegion: 'Europe', Bandwidth: 100, Concurrent: 30, ProjectId: 0 },
      ];
      for (const [i, s] of specs.entries()) ids.push(await create(c(), { ...s, ProxyName: `list-${i}` }));
    });

    it('pages with Offset/Limit (default 20, max 100) and counts the whole match', async () => {
      const page = shape('DescribeProxies', await c().DescribeProxies({ Limit: 2 }));
      assert.equal(page.TotalCount, 5);
      assert.equal(page.ProxySet.length, 2);
      assert.deepEqual(page.InstanceSet, page.ProxySet);
      // Default order: newest first.
      assert.deepEqual(page.ProxySet.map((p: any) => p.ProxyId), [ids[4], ids[3]]);
      const rest = await c().DescribeProxies({ Offset: 2, Limit: 20 });
      assert.deepEqual(rest.ProxySet.map((p: any) => p.ProxyId), [ids[2], ids[1], ids[0]]);
      const all = await c().DescribeProxies({});
      assert.equal(all.ProxySet.length, 5);
      assert.equal(await errorCode(c().DescribeProxies({ Limit: 101 })), 'InvalidParameterValue');
      assert.equal(await errorCode(c().DescribeProxies({ Offset: -1 })), 'InvalidParameterValue');
    });

    it('orders by the documented fields', async () => {
      const asc = await c().DescribeProxies({ OrderField: 'bandwidth', Order: 'asc' });
      assert.deepEqual(asc.ProxySet.map((p: any) => p.Bandwidth), [10, 20, 50, 100, 200]);
      const desc = await c().DescribeProxies({ OrderField: 'concurrent_connections' });
      assert.deepEqual(desc.ProxySet.map((p: any) => p.Concurrent), [30, 20, 10, 5, 2]);
      const byCreate = await c().DescribeProxies({ Order: 'asc' });
      assert.deepEqual(byCreate.ProxySet.map((p: any) => p.ProxyId), ids);
      const byId = await c().DescribeProxies({ OrderField: 'proxy_id', Order: 'asc' });
      assert.deepEqual(byId.ProxySet.map((p: any) => p.ProxyId), [...ids].sort());
      assert.equal(await errorCode(c().DescribeProxies({ Order: 'up' })), 'InvalidParameterValue');
      assert.equal(await errorCode(c().DescribeProxies({ OrderField: 'name' })), 'InvalidParameterValue');
    });

    it('filters by the documented names, AND across filters, OR within one', async () => {
      const hk = shape('DescribeProxies', await c().DescribeProxies({ Filters: [{ Name: 'AccessRegion', Values: ['Hongkong'] }], Limit: 1 }));
      assert.equal(hk.TotalCount, 2);
      assert.equal(hk.ProxySet.length, 1);
      const two = await c().DescribeProxies({ Filters: [{ Name: 'AccessRegion', Values: ['Hongkong', 'Korea'] }, { Name: 'ProjectId', Values: ['0'] }] });
      assert.deepEqual(two.ProxySet.map((p: any) => p.ProxyId).sort(), [ids[0], ids[2]].sort());
      const v6 = await c().DescribeProxies({ Filters: [{ Name: 'IPAddressVersion', Values: ['ipv6'] }] });
      assert.deepEqual(v6.ProxySet.map((p: any) => p.ProxyId), [ids[2]]);
      const dest = await c().DescribeProxies({ Filters: [{ Name: 'RealServerRegion', Values: ['Europe'] }] });
      assert.equal(dest.TotalCount, 0);
      assert.equal(await errorCode(c().DescribeProxies({ Filters: [{ Name: 'Bandwidth', Values: ['10'] }] })), 'InvalidParameterValue');
      assert.equal(await errorCode(c().DescribeProxies({ Filters: [{ Name: 'AccessRegion', Values: ['a', 'b', 'c', 'd', 'e', 'f'] }] })), 'InvalidParameterValue');
      assert.equal(await errorCode(c().DescribeProxies({ ProxyIds: [ids[0]], Filters: [{ Name: 'ProjectId', Values: ['0'] }] })), 'InvalidParameter');
    });

    it('selects by ProxyIds or InstanceIds and by TagSet (any tag matches)', async () => {
      const byIds = await c().DescribeProxies({ ProxyIds: [ids[1], ids[3], 'link-unknown1'] });
      assert.deepEqual(byIds.ProxySet.map((p: any) => p.ProxyId).sort(), [ids[1], ids[3]].sort());
      const byOld = await c().DescribeProxies({ InstanceIds: [ids[0]] });
      assert.deepEqual(byOld.InstanceSet.map((p: any) => p.InstanceId), [ids[0]]);
      const tagged = await c().DescribeProxies({ TagSet: [{ TagKey: 'team', TagValue: 'a' }, { TagKey: 'team', TagValue: 'c' }] });
      assert.equal(tagged.TotalCount, 2);
      assert.deepEqual(tagged.ProxySet.map((p: any) => p.ProxyId).sort(), [ids[0], ids[3]].sort());
      const none = await c().DescribeProxies({ TagSet: [{ TagKey: 'team', TagValue: 'zzz' }] });
      assert.equal(none.TotalCount, 0);
      const tagAndId = await c().DescribeProxies({ ProxyIds: [ids[0], ids[1]], TagSet: [{ TagKey: 'team', TagValue: 'b' }] });
      assert.deepEqual(tagAndId.ProxySet.map((p: any) => p.ProxyId), [ids[1]]);
    });

    it('Independent separates proxies inside and outside groups', async () => {
      const g = await c().CreateProxyGroup({ ProjectId: 0, GroupName: 'g', RealServerRegion: 'Beijing', AccessRegionSet: [{ AccessRegion: 'Korea', Bandwidth: 10, Concurrent: 2 }] });
      const inGroup = await c().DescribeProxies({ Independent: 0 });
      assert.equal(inGroup.TotalCount, 1);
      assert.equal(inGroup.ProxySet[0].GroupId, g.GroupId);
      const outside = await c().DescribeProxies({ Independent: 1 });
      assert.equal(outside.TotalCount, 5);
      const byGroup = await c().DescribeProxies({ Filters: [{ Name: 'GroupId', Values: [g.GroupId] }] });
      assert.equal(byGroup.TotalCount, 1);
      const all = await c().DescribeProxies({});
      assert.equal(all.TotalCount, 6);
      await c().DeleteProxyGroup({ GroupId: g.GroupId, Force: 1 });
      assert.equal((await c().DescribeProxies({})).TotalCount, 5);
    });

    it('DescribeProxiesStatus reports the named proxies, or all', async () => {
      const one = shape('DescribeProxiesStatus', await c().DescribeProxiesStatus({ ProxyIds: [ids[0]] }));
      assert.deepEqual(one.InstanceStatusSet, [{ InstanceId: ids[0], Status: 'RUNNING' }]);
      const all = shape('DescribeProxiesStatus', await c().DescribeProxiesStatus({}));
      assert.equal(all.InstanceStatusSet.length, 5);
    });
  });

  it('closes and opens proxies, reporting proxies in the wrong status', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_A });
    const id = await create(c);
    const closed = shape('CloseProxies', await c.CloseProxies({ ProxyIds: [id] }));
    assert.deepEqual(closed, { ...closed, InvalidStatusInstanceSet: [], OperationFailedInstanceSet: [] });
    assert.equal((await detail(c, id)).Status, 'CLOSED');
    const again = shape('CloseProxies', await c.CloseProxies({ InstanceIds: [id] }));
    assert.deepEqual(again.InvalidStatusInstanceSet, [id]);
    const opened = shape('OpenProxies', await c.OpenProxies({ ProxyIds: [id] }));
    assert.deepEqual(opened.InvalidStatusInstanceSet, []);
    assert.equal((await detail(c, id)).Status, 'RUNNING');
    const reopen = shape('OpenProxies', await c.OpenProxies({ ProxyIds: [id] }));
    assert.deepEqual(reopen.InvalidStatusInstanceSet, [id]);
    assert.equal(await errorCode(c.OpenProxies({ ProxyIds: ['link-nothere1'] })), 'ResourceNotFound');
    assert.equal(await errorCode(c.OpenProxies({})), 'MissingParameter');
  });

  it('modifies name, project and configuration', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_A });
    const id = await create(c);
    shape('ModifyProxiesAttribute', await c.ModifyProxiesAttribute({ ProxyIds: [id], ProxyName: 'renamed' }));
    shape('ModifyProxiesProject', await c.ModifyProxiesProject({ InstanceIds: [id], ProjectId: 12 }));
    const res = shape('ModifyProxyConfiguration', await c.ModifyProxyConfiguration({ ProxyId: id, Bandwidth: 100, Concurrent: 30, BillingType: 1 }));
    assert.equal((await c.DescribeTaskStatus({ TaskId: res.RequestId })).Status, 'SUCCESS');
    const p = await detail(c, id);
    assert.equal(p.ProxyName, 'renamed');
    assert.equal(p.ProjectId, 12);
    assert.equal(p.Bandwidth, 100);
    assert.equal(p.Concurrent, 30);
    assert.equal(p.BillingType, 1);
    assert.equal(p.IPList[0].Bandwidth, 100);
    assert.equal(typeof p.ModifyConfigTime, 'number');
    assert.equal(await errorCode(c.ModifyProxiesAttribute({ ProxyIds: [id], ProxyName: 'y'.repeat(33) })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.ModifyProxiesProject({ ProxyIds: [id], ProjectId: -3 })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.ModifyProxyConfiguration({ ProxyId: id, Bandwidth: 7 })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.ModifyProxyConfiguration({ ProxyId: id, Concurrent: 7 })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.ModifyProxyConfiguration({ ProxyId: id })), 'InvalidParameter');
    assert.equal(await errorCode(c.ModifyProxyConfiguration({ Bandwidth: 10 })), 'MissingParameter');
    assert.equal(await errorCode(c.ModifyProxyConfiguration({ ProxyId: 'link-nothere1', Bandwidth: 10 })), 'ResourceNotFound');
    await c.CloseProxies({ ProxyIds: [id] });
    assert.equal(await errorCode(c.ModifyProxyConfiguration({ ProxyId: id, Bandwidth: 10 })), 'FailedOperation');
  });

  it('CheckProxyCreate answers CheckFlag and the documented validation codes', async () => {
    const c = cnClient('gaap', server);
    const ok = shape('CheckProxyCreate', await c.CheckProxyCreate({ AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 }));
    assert.equal(ok.CheckFlag, 1);
    const noGroup = await c.CheckProxyCreate({ AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2, GroupId: 'lg-nothere1' });
    assert.equal(noGroup.CheckFlag, 0);
    const q = { AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 };
    assert.equal(await errorCode(c.CheckProxyCreate({ ...q, AccessRegion: 'Nowhere' })), 'InvalidParameterValue.UnknownAccessRegion');
    assert.equal(await errorCode(c.CheckProxyCreate({ ...q, RealServerRegion: 'Nowhere' })), 'InvalidParameterValue.UnknownDestRegion');
    assert.equal(await errorCode(c.CheckProxyCreate({ ...q, Bandwidth: 3 })), 'InvalidParameterValue.InvalidBandwidth');
    assert.equal(await errorCode(c.CheckProxyCreate({ ...q, Concurrent: 3 })), 'InvalidParameterValue.InvalidConcurrency');
  });

  it('destroys proxies with their listeners; Force=0 refuses bound real servers', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_B });
    const id = await create(c);
    const other = await create(c);
    // A TCP listener with a bound real server, as the listener module stores it.
    await server.store.transaction(ACCOUNT_B.uin, async (tx) => {
      await tx.put({
        kind: 'gaap.listener', id: 'listener-bound001', parent: id, status: '0', createdAt: Date.now(),
        data: { ListenerId: 'listener-bound001', ProxyId: id, GroupId: null, Protocol: 'TCP', Port: 80, RealServerSet: [{ RealServerId: 'rs-aaaaaaaa', RealServerIP: '1.1.1.1', RealServerPort: 80, RealServerWeight: 1 }] },
      });
    });
    assert.equal(await errorCode(c.DestroyProxies({ ProxyIds: [id], Force: 0 })), 'FailedOperation.RealServerAlreadyBound');
    assert.equal((await detail(c, id)).Status, 'RUNNING');
    assert.equal(await errorCode(c.DestroyProxies({ ProxyIds: [id], Force: 2 })), 'InvalidParameterValue');
    const other0 = shape('DestroyProxies', await c.DestroyProxies({ ProxyIds: [other], Force: 0 }));
    assert.deepEqual(other0.InvalidStatusInstanceSet, []);
    const res = shape('DestroyProxies', await c.DestroyProxies({ ProxyIds: [id], Force: 1 }));
    assert.deepEqual(res.InvalidStatusInstanceSet, []);
    assert.equal((await c.DescribeTaskStatus({ TaskId: res.RequestId })).Status, 'SUCCESS');
    assert.equal(await errorCode(c.DescribeProxyDetail({ ProxyId: id })), 'ResourceNotFound');
    assert.equal((await c.DescribeProxies({ ProxyIds: [id, other] })).TotalCount, 0);
    const listener = await server.store.transaction(ACCOUNT_B.uin, (tx) => tx.get('gaap.listener', 'listener-bound001'));
    assert.equal(listener, undefined, 'the listener went with its proxy');
  });

  it('refuses to destroy proxies of different groups in one call', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_B });
    const g = await c.CreateProxyGroup({ ProjectId: 0, GroupName: 'gg', RealServerRegion: 'Beijing', AccessRegionSet: [{ AccessRegion: 'Japan', Bandwidth: 10, Concurrent: 2 }] });
    const grouped = (await c.DescribeProxies({ Filters: [{ Name: 'GroupId', Values: [g.GroupId] }] })).ProxySet[0].ProxyId;
    const alone = await create(c);
    assert.equal(await errorCode(c.DestroyProxies({ ProxyIds: [grouped, alone], Force: 1 })), 'FailedOperation.BelongDifferentGroup');
  });

  it('the international SDK (v1 form) creates and filters with nested parameters', async () => {
    const intl = intlClient('gaap', server, { account: ACCOUNT_A });
    const res = await intl.CreateProxy({ ...base, ProxyName: 'intl', AccessRegion: 'Korea', TagSet: [{ TagKey: 'via', TagValue: 'intl' }] });
    // The international SDK's models are older: it drops the fields they lack, so no shape check here.
    const list = (await intl.DescribeProxies({ Filters: [{ Name: 'AccessRegion', Values: ['Korea'] }, { Name: 'ProjectId', Values: ['0'] }], TagSet: [{ TagKey: 'via', TagValue: 'intl' }] }));
    assert.equal(list.TotalCount, 1);
    assert.deepEqual(list.ProxySet.map((p: any) => p.ProxyId), [res.InstanceId]);
    assert.deepEqual(list.ProxySet[0].TagSet.map((t: any) => ({ ...t })), [{ TagKey: 'via', TagValue: 'intl' }]);
  });

  it('RelatedGlobalDomains lists the global domains resolving to the proxy', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_B });
    const id = await create(c, { ProxyName: 'gd' });
    assert.deepEqual((await detail(c, id)).RelatedGlobalDomains, []);
    const { DomainId } = await c.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '2.2.2.2' });
    await c.CreateGlobalDomainDns({ DomainId, ProxyIdList: [id], NationCountryInnerCodes: ['101001'] });
    assert.deepEqual((await detail(c, id)).RelatedGlobalDomains, [DomainId]);
    const listed = shape('DescribeProxies', await c.DescribeProxies({ ProxyIds: [id] }));
    assert.deepEqual(listed.ProxySet[0].RelatedGlobalDomains, [DomainId]);
  });

  it('no-op actions answer their documented (empty) shape', async () => {
    const c = cnClient('gaap', server);
    shape('BanAndRecoverProxy', await c.BanAndRecoverProxy({}));
    shape('DescribeCrossBorderProxies', await c.DescribeCrossBorderProxies({}));
    shape('DescribeAuthSignature', await c.DescribeAuthSignature({}));
  });
});

describe('gaap proxies: transient statuses', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ ...MANUAL_TRANSITIONS, rateLimits: false });
  });
  after(() => server.stop());

  it('CREATING → RUNNING, with the create task RUNNING until then', async () => {
    const c = cnClient('gaap', server);
    const res = await c.CreateProxy(base);
    assert.equal((await detail(c, res.InstanceId)).Status, 'CREATING');
    assert.equal((await c.DescribeTaskStatus({ TaskId: res.RequestId })).Status, 'RUNNING');
    assert.deepEqual((await c.DescribeProxiesStatus({ ProxyIds: [res.InstanceId] })).InstanceStatusSet, [{ InstanceId: res.InstanceId, Status: 'CREATING' }]);
    // Writes during creation: batch calls report it, single calls fail.
    const close = await c.CloseProxies({ ProxyIds: [res.InstanceId] });
    assert.deepEqual(close.OperationFailedInstanceSet, [res.InstanceId]);
    assert.equal(await errorCode(c.ModifyProxyConfiguration({ ProxyId: res.InstanceId, Bandwidth: 20 })), 'FailedOperation');
    const destroy = await c.DestroyProxies({ ProxyIds: [res.InstanceId], Force: 1 });
    assert.deepEqual(destroy.OperationFailedInstanceSet, [res.InstanceId]);
    assert.deepEqual(destroy.InvalidStatusInstanceSet, []);
    await advance(server);
    assert.equal((await detail(c, res.InstanceId)).Status, 'RUNNING');
    assert.equal((await c.DescribeTaskStatus({ TaskId: res.RequestId })).Status, 'SUCCESS');
  });

  it('a task kept as a resource record by an earlier version still answers, and completes with its transition', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_B });
    const res = await c.CreateProxy(base);
    // Rewrite the state as an earlier version stored it: the task as a resource record.
    const state = (await (await fetch(`${server.url}/_tclocal/state`)).json()) as any;
    const kv = state.tables.kv.find((r: any) => r.ns === 'gaap.task' && r.key === res.RequestId);
    assert.ok(kv, 'the task is a keyed value');
    state.tables.kv = state.tables.kv.filter((r: any) => r !== kv);
    state.tables.resources.push({ account: kv.account, kind: 'gaap.task', id: res.RequestId, parent: null, status: 'RUNNING', created_at: 1, data: JSON.stringify({ TaskId: res.RequestId }) });
    assert.equal((await fetch(`${server.url}/_tclocal/state`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(state) })).status, 200);
    assert.equal((await c.DescribeTaskStatus({ TaskId: res.RequestId })).Status, 'RUNNING');
    await advance(server);
    assert.equal((await c.DescribeTaskStatus({ TaskId: res.RequestId })).Status, 'SUCCESS');
    assert.equal((await detail(c, res.InstanceId)).Status, 'RUNNING');
  });

  it('RUNNING → CLOSING → CLOSED → OPENING → RUNNING, ADJUSTING and DESTROYING', async () => {
    const c = cnClient('gaap', server);
    const { InstanceId: id } = await c.CreateProxy(base);
    await advance(server);
    const close = await c.CloseProxies({ ProxyIds: [id] });
    assert.equal((await detail(c, id)).Status, 'CLOSING');
    assert.equal((await c.DescribeTaskStatus({ TaskId: close.RequestId })).Status, 'RUNNING');
    await advance(server);
    assert.equal((await detail(c, id)).Status, 'CLOSED');
    assert.equal((await c.DescribeTaskStatus({ TaskId: close.RequestId })).Status, 'SUCCESS');
    await c.OpenProxies({ ProxyIds: [id] });
    assert.equal((await detail(c, id)).Status, 'OPENING');
    await advance(server);
    assert.equal((await detail(c, id)).Status, 'RUNNING');
    const adj = await c.ModifyProxyConfiguration({ ProxyId: id, Bandwidth: 50 });
    const during = await detail(c, id);
    assert.equal(during.Status, 'ADJUSTING');
    assert.equal(during.Bandwidth, 10);
    assert.equal(await errorCode(c.ModifyProxyConfiguration({ ProxyId: id, Bandwidth: 20 })), 'FailedOperation');
    await advance(server);
    assert.equal((await c.DescribeTaskStatus({ TaskId: adj.RequestId })).Status, 'SUCCESS');
    assert.equal((await detail(c, id)).Bandwidth, 50);
    const d = await c.DestroyProxies({ ProxyIds: [id], Force: 1 });
    assert.equal((await detail(c, id)).Status, 'DESTROYING');
    const twice = await c.DestroyProxies({ ProxyIds: [id], Force: 1 });
    assert.deepEqual(twice.InvalidStatusInstanceSet, [id]);
    assert.equal(await errorCode(c.ModifyProxiesAttribute({ ProxyIds: [id], ProxyName: 'x' })), 'FailedOperation');
    await advance(server);
    assert.equal((await c.DescribeTaskStatus({ TaskId: d.RequestId })).Status, 'SUCCESS');
    assert.equal((await c.DescribeProxies({ ProxyIds: [id] })).TotalCount, 0);
  });
});
