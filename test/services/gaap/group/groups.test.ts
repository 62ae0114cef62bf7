/**
 * GAAP proxy groups through the official SDK: creation with one proxy per
 * access region, list (string status) and detail (integer status),
 * open/close of every proxy, deletion, the deprecated group-domain calls,
 * tag lookups and account isolation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../../src/server';
import { ACCOUNT_A, ACCOUNT_B, advance, cnClient, errorCode, MANUAL_TRANSITIONS, startTclocal } from '../../../helpers';
import { assertResponseShape } from '../../../support/response-shape';

const shape = (action: string, res: any) => {
  assertResponseShape('gaap', action, res);
  return res;
};

/** A client of the official SDK for the Tag API, pointed at tclocal. */
function tagClient(server: { port: number }, account: { secretId: string; secretKey: string }): any {
  const { tag } = require('tencentcloud-sdk-nodejs/tencentcloud/services/tag');
  return new tag.v20180813.Client({
    credential: { secretId: account.secretId, secretKey: account.secretKey },
    region: '',
    profile: { httpProfile: { endpoint: `127.0.0.1:${server.port}`, protocol: 'http://', reqMethod: 'POST', reqTimeout: 30 } },
  });
}

const groupInput = {
  ProjectId: 0,
  GroupName: 'edge',
  RealServerRegion: 'Beijing',
  AccessRegionSet: [
    { AccessRegion: 'Hongkong', Bandwidth: 10, Concurrent: 2 },
    { AccessRegion: 'Japan', Bandwidth: 20, Concurrent: 5 },
  ],
  TagSet: [{ TagKey: 'app', TagValue: 'game' }],
};

describe('gaap proxy groups', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
  });
  after(() => server.stop());

  it('CreateProxyGroup creates the group and one proxy per access region', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_A });
    const res = shape('CreateProxyGroup', await c.CreateProxyGroup(groupInput));
    assert.match(res.GroupId, /^lg-[a-z0-9]{8}$/);
    assert.equal((await c.DescribeTaskStatus({ TaskId: res.RequestId })).Status, 'SUCCESS');
    const d = shape('DescribeProxyGroupDetails', await c.DescribeProxyGroupDetails({ GroupId: res.GroupId })).ProxyGroupDetail;
    assert.equal(d.GroupId, res.GroupId);
    assert.equal(d.Status, 0);
    assert.equal(d.ProxyNum, 2);
    assert.equal(d.Version, '3.0');
    assert.equal(d.RealServerRegionInfo.RegionId, 'Beijing');
    assert.equal(d.OwnerUin, ACCOUNT_A.uin);
    assert.deepEqual(d.TagSet, groupInput.TagSet);
    const proxies = await c.DescribeProxies({ Filters: [{ Name: 'GroupId', Values: [res.GroupId] }], Order: 'asc' });
    assert.deepEqual(proxies.ProxySet.map((p: any) => p.AccessRegion), ['Hongkong', 'Japan']);
    for (const p of proxies.ProxySet) {
      assert.equal(p.GroupId, res.GroupId);
      assert.equal(p.RealServerRegion, 'Beijing');
      assert.equal(p.Status, 'RUNNING');
    }
    const list = shape('DescribeProxyGroupList', await c.DescribeProxyGroupList({ Offset: 0, Limit: 20, ProjectId: -1 }));
    assert.equal(list.TotalCount, 1);
    assert.equal(list.ProxyGroupList[0].Status, 'RUNNING');
    assert.equal(list.ProxyGroupList[0].GroupName, 'edge');
  });

  it('a proxy created with GroupId takes the group\'s region', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_A });
    const { GroupId } = await c.CreateProxyGroup({ ProjectId: 0, GroupName: 'solo', RealServerRegion: 'Europe' });
    const { InstanceId } = await c.CreateProxy({ ProjectId: 0, ProxyName: 'in-group', AccessRegion: 'Hongkong', Bandwidth: 10, Concurrent: 2, GroupId });
    const p = (await c.DescribeProxyDetail({ ProxyId: InstanceId })).ProxyDetail;
    assert.equal(p.RealServerRegion, 'Europe');
    assert.equal(p.GroupId, GroupId);
    assert.equal((await c.DescribeProxyGroupDetails({ GroupId })).ProxyGroupDetail.ProxyNum, 1);
    assert.equal(await errorCode(c.CreateProxy({ ProjectId: 0, ProxyName: 'x', AccessRegion: 'Hongkong', Bandwidth: 10, Concurrent: 2, GroupId, RealServerRegion: 'Japan' })),
      'InvalidParameterValue.ProxyAndGroupFeatureConflict');
  });

  it('validates CreateProxyGroup', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_B });
    // CreateProxyGroup documents none of the region/capacity codes: plain InvalidParameterValue.
    assert.equal(await errorCode(c.CreateProxyGroup({ ...groupInput, RealServerRegion: 'Nowhere' })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.CreateProxyGroup({ ...groupInput, AccessRegionSet: [{ AccessRegion: 'Nowhere', Bandwidth: 10, Concurrent: 2 }] })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.CreateProxyGroup({ ...groupInput, AccessRegionSet: [{ AccessRegion: 'Japan', Bandwidth: 11, Concurrent: 2 }] })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.CreateProxyGroup({ ...groupInput, AccessRegionSet: [{ AccessRegion: 'Japan', Bandwidth: 10, Concurrent: 1 }] })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.CreateProxyGroup({ ...groupInput, ProjectId: -2 })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.CreateProxyGroup({ ...groupInput, AccessRegionSet: [groupInput.AccessRegionSet[0], groupInput.AccessRegionSet[0]] })), 'FailedOperation.LimitNumofProxiesInGroup');
    assert.equal(await errorCode(c.CreateProxyGroup({ ...groupInput, GroupName: 'n'.repeat(31) })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.CreateProxyGroup({ ...groupInput, PackageType: 'CrossBorder' })), 'InvalidParameterValue');
    assert.equal((await c.DescribeProxyGroupList({ Offset: 0, Limit: 20, ProjectId: -1 })).TotalCount, 0);
    assert.equal((await c.DescribeProxies({})).TotalCount, 0);
  });

  it('lists groups with paging, project, filters and tags; isolates accounts', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_B });
    const ids: string[] = [];
    ids.push((await c.CreateProxyGroup({ ProjectId: 0, GroupName: 'a', RealServerRegion: 'Beijing', TagSet: [{ TagKey: 't', TagValue: '1' }] })).GroupId);
    ids.push((await c.CreateProxyGroup({ ProjectId: 5, GroupName: 'b', RealServerRegion: 'Europe', PackageType: 'Accelerator' })).GroupId);
    ids.push((await c.CreateProxyGroup({ ProjectId: 5, GroupName: 'c', RealServerRegion: 'Beijing', TagSet: [{ TagKey: 't', TagValue: '2' }] })).GroupId);
    const page = shape('DescribeProxyGroupList', await c.DescribeProxyGroupList({ Offset: 1, Limit: 1, ProjectId: -1 }));
    assert.equal(page.TotalCount, 3);
    assert.deepEqual(page.ProxyGroupList.map((g: any) => g.GroupId), [ids[1]]);
    const p5 = await c.DescribeProxyGroupList({ Offset: 0, Limit: 20, ProjectId: 5 });
    assert.deepEqual(p5.ProxyGroupList.map((g: any) => g.GroupId).sort(), [ids[1], ids[2]].sort());
    const bj = await c.DescribeProxyGroupList({ Offset: 0, Limit: 20, ProjectId: -1, Filters: [{ Name: 'RealServerRegion', Values: ['Beijing'] }] });
    assert.equal(bj.TotalCount, 2);
    const acc = await c.DescribeProxyGroupList({ Offset: 0, Limit: 20, ProjectId: -1, Filters: [{ Name: 'PackageType', Values: ['Accelerator'] }] });
    assert.deepEqual(acc.ProxyGroupList.map((g: any) => g.GroupId), [ids[1]]);
    const tagged = await c.DescribeProxyGroupList({ Offset: 0, Limit: 20, ProjectId: -1, TagSet: [{ TagKey: 't', TagValue: '1' }, { TagKey: 't', TagValue: '2' }] });
    assert.equal(tagged.TotalCount, 2);
    assert.equal(await errorCode(c.DescribeProxyGroupList({ Offset: 0, Limit: 101, ProjectId: -1 })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.DescribeProxyGroupList({ Offset: 0, Limit: 10, ProjectId: -1, Filters: [{ Name: 'GroupName', Values: ['a'] }] })), 'InvalidParameterValue');
    const a = cnClient('gaap', server, { account: ACCOUNT_A });
    assert.equal(await errorCode(a.DescribeProxyGroupDetails({ GroupId: ids[0] })), 'ResourceNotFound');
    assert.equal(await errorCode(a.DeleteProxyGroup({ GroupId: ids[0] })), 'ResourceNotFound');
    for (const id of ids) await c.DeleteProxyGroup({ GroupId: id });
  });

  it('modifies the group name and project', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_B });
    const { GroupId } = await c.CreateProxyGroup({ ProjectId: 0, GroupName: 'old', RealServerRegion: 'Beijing' });
    shape('ModifyProxyGroupAttribute', await c.ModifyProxyGroupAttribute({ GroupId, GroupName: 'new', ProjectId: 3 }));
    const d = (await c.DescribeProxyGroupDetails({ GroupId })).ProxyGroupDetail;
    assert.equal(d.GroupName, 'new');
    assert.equal(d.ProjectId, 3);
    assert.equal(await errorCode(c.ModifyProxyGroupAttribute({ GroupId, GroupName: 'x'.repeat(31) })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.ModifyProxyGroupAttribute({ GroupId: 'lg-nothere1', GroupName: 'x' })), 'ResourceNotFound');
    await c.DeleteProxyGroup({ GroupId });
  });

  it('closes and opens every proxy of a group', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_A });
    const { GroupId } = await c.CreateProxyGroup({ ...groupInput, GroupName: 'oc' });
    const closed = shape('CloseProxyGroup', await c.CloseProxyGroup({ GroupId }));
    assert.deepEqual(closed.InvalidStatusInstanceSet, []);
    const proxies = (await c.DescribeProxies({ Filters: [{ Name: 'GroupId', Values: [GroupId] }] })).ProxySet;
    assert.deepEqual(proxies.map((p: any) => p.Status), ['CLOSED', 'CLOSED']);
    const list = await c.DescribeProxyGroupList({ Offset: 0, Limit: 100, ProjectId: -1 });
    assert.equal(list.ProxyGroupList.find((g: any) => g.GroupId === GroupId).Status, 'CLOSED');
    const again = shape('CloseProxyGroup', await c.CloseProxyGroup({ GroupId }));
    assert.equal(again.InvalidStatusInstanceSet.length, 2);
    const opened = shape('OpenProxyGroup', await c.OpenProxyGroup({ GroupId }));
    assert.deepEqual(opened.InvalidStatusInstanceSet, []);
    const after = (await c.DescribeProxies({ Filters: [{ Name: 'GroupId', Values: [GroupId] }] })).ProxySet;
    assert.deepEqual(after.map((p: any) => p.Status), ['RUNNING', 'RUNNING']);
    assert.equal((await c.DescribeProxyGroupDetails({ GroupId })).ProxyGroupDetail.Status, 0);
    assert.equal(await errorCode(c.OpenProxyGroup({ GroupId: 'lg-nothere1' })), 'ResourceNotFound');
  });

  it('DeleteProxyGroup refuses remaining proxies unless forced', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_A });
    const { GroupId } = await c.CreateProxyGroup({ ...groupInput, GroupName: 'del' });
    assert.equal(await errorCode(c.DeleteProxyGroup({ GroupId })), 'FailedOperation.DeleteProxyGroupProxyRemained');
    assert.equal(await errorCode(c.DeleteProxyGroup({ GroupId, Force: 0 })), 'FailedOperation.DeleteProxyGroupProxyRemained');
    const proxyIds = (await c.DescribeProxies({ Filters: [{ Name: 'GroupId', Values: [GroupId] }] })).ProxySet.map((p: any) => p.ProxyId);
    const res = shape('DeleteProxyGroup', await c.DeleteProxyGroup({ GroupId, Force: 1 }));
    assert.equal((await c.DescribeTaskStatus({ TaskId: res.RequestId })).Status, 'SUCCESS');
    assert.equal(await errorCode(c.DescribeProxyGroupDetails({ GroupId })), 'ResourceNotFound');
    assert.equal((await c.DescribeProxies({ ProxyIds: proxyIds })).TotalCount, 0);
    // An empty group goes without Force.
    const empty = await c.CreateProxyGroup({ ProjectId: 0, GroupName: 'empty', RealServerRegion: 'Beijing' });
    await c.DeleteProxyGroup({ GroupId: empty.GroupId });
    assert.equal(await errorCode(c.DescribeProxyGroupDetails({ GroupId: empty.GroupId })), 'ResourceNotFound');
  });

  it('DeleteProxyGroup with Force=0 refuses group listeners with bound real servers', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_B });
    const { GroupId } = await c.CreateProxyGroup({ ProjectId: 0, GroupName: 'bound', RealServerRegion: 'Beijing' });
    await server.store.transaction(ACCOUNT_B.uin, (tx) => tx.put({
      kind: 'gaap.listener', id: 'listener-grp00001', parent: GroupId, status: '0', createdAt: Date.now(),
      data: { ListenerId: 'listener-grp00001', ProxyId: null, GroupId, Protocol: 'UDP', Port: 53, RealServerSet: [{ RealServerId: 'rs-bbbbbbbb' }] },
    }));
    assert.equal(await errorCode(c.DeleteProxyGroup({ GroupId })), 'FailedOperation.RealServerAlreadyBound');
    await c.DeleteProxyGroup({ GroupId, Force: 1 });
    const gone = await server.store.transaction(ACCOUNT_B.uin, (tx) => tx.get('gaap.listener', 'listener-grp00001'));
    assert.equal(gone, undefined);
  });

  it('group domain calls (deprecated) keep and answer their configuration', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_A });
    const { GroupId } = await c.CreateProxyGroup({ ...groupInput, GroupName: 'dns' });
    const before0 = shape('DescribeProxyGroupDetails', await c.DescribeProxyGroupDetails({ GroupId })).ProxyGroupDetail;
    assert.equal(before0.Domain, null);
    const created = shape('CreateProxyGroupDomain', await c.CreateProxyGroupDomain({ GroupId }));
    assert.equal(created.GroupId, GroupId);
    assert.equal((await c.DescribeProxyGroupDetails({ GroupId })).ProxyGroupDetail.Domain, `${GroupId}.gaapqcloud.com.cn`);
    shape('ModifyGroupDomainConfig', await c.ModifyGroupDomainConfig({
      GroupId, DefaultDnsIp: '1.2.3.4', AccessRegionList: [{ RegionId: 'Hongkong', NationCountryInnerList: ['101001', '101002'] }],
    }));
    const conf = shape('DescribeGroupDomainConfig', await c.DescribeGroupDomainConfig({ GroupId }));
    assert.equal(conf.DefaultDnsIp, '1.2.3.4');
    assert.equal(conf.AccessRegionCount, 2);
    const hk = conf.AccessRegionList.find((r: any) => r.RegionId === 'Hongkong');
    assert.deepEqual(hk.NationCountryInnerList.map((x: any) => x.NationCountryInnerCode), ['101001', '101002']);
    assert.equal(hk.ProxyList.length, 1);
    assert.ok(hk.NationCountryInnerList[0].NationCountryName.length > 0);
    assert.notEqual(hk.NationCountryInnerList[0].NationCountryName, '101001', 'codes are answered with their names');
    assert.equal(hk.ContinentInnerCode, '100000');
    assert.equal(await errorCode(c.ModifyGroupDomainConfig({ GroupId, DefaultDnsIp: '1.1.1.1', AccessRegionList: [{ RegionId: 'Hongkong', NationCountryInnerList: ['999999'] }] })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.ModifyGroupDomainConfig({ GroupId, DefaultDnsIp: 'not-an-ip' })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.ModifyGroupDomainConfig({ GroupId, DefaultDnsIp: '1.1.1.1', AccessRegionList: [{ RegionId: 'Korea' }] })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.DescribeGroupDomainConfig({ GroupId: 'lg-nothere1' })), 'ResourceNotFound');
  });

  it('DescribeResourcesByTag finds proxies and groups by tag', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_B });
    const { GroupId } = await c.CreateProxyGroup({ ProjectId: 0, GroupName: 'tg', RealServerRegion: 'Beijing', TagSet: [{ TagKey: 'owner', TagValue: 'ops' }] });
    const { InstanceId } = await c.CreateProxy({ ProjectId: 0, ProxyName: 'tp', AccessRegion: 'Hongkong', RealServerRegion: 'Europe', Bandwidth: 10, Concurrent: 2, TagSet: [{ TagKey: 'owner', TagValue: 'ops' }] });
    await c.CreateProxy({ ProjectId: 0, ProxyName: 'other', AccessRegion: 'Hongkong', RealServerRegion: 'Europe', Bandwidth: 10, Concurrent: 2, TagSet: [{ TagKey: 'owner', TagValue: 'dev' }] });
    const all = shape('DescribeResourcesByTag', await c.DescribeResourcesByTag({ TagKey: 'owner', TagValue: 'ops' }));
    assert.equal(all.TotalCount, 2);
    assert.deepEqual(
      all.ResourceSet.map((r: any) => `${r.ResourceType}:${r.ResourceId}`).sort(),
      [`Proxy:${InstanceId}`, `ProxyGroup:${GroupId}`].sort(),
    );
    const proxies = shape('DescribeResourcesByTag', await c.DescribeResourcesByTag({ TagKey: 'owner', TagValue: 'ops', ResourceType: 'Proxy' }));
    assert.deepEqual(proxies.ResourceSet, [{ ResourceType: 'Proxy', ResourceId: InstanceId }]);
    const rs = await c.DescribeResourcesByTag({ TagKey: 'owner', TagValue: 'ops', ResourceType: 'RealServer' });
    assert.equal(rs.TotalCount, 0);
    // Real servers and global domains carry their tags too.
    const added = await c.AddRealServers({ ProjectId: 0, RealServerIP: ['10.1.2.3'], RealServerName: 'rs', TagSet: [{ TagKey: 'owner', TagValue: 'net' }] });
    const dm = await c.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '1.1.1.1', TagSet: [{ TagKey: 'owner', TagValue: 'net' }] });
    const net = shape('DescribeResourcesByTag', await c.DescribeResourcesByTag({ TagKey: 'owner', TagValue: 'net' }));
    assert.deepEqual(
      net.ResourceSet.map((r: any) => `${r.ResourceType}:${r.ResourceId}`).sort(),
      [`RealServer:${added.RealServerSet[0].RealServerId}`, `domain:${dm.DomainId}`].sort(),
    );
    const netRs = await c.DescribeResourcesByTag({ TagKey: 'owner', TagValue: 'net', ResourceType: 'RealServer' });
    assert.deepEqual(netRs.ResourceSet, [{ ResourceType: 'RealServer', ResourceId: added.RealServerSet[0].RealServerId }]);
    assert.equal(await errorCode(c.DescribeResourcesByTag({ TagKey: 'owner', TagValue: 'ops', ResourceType: 'Bucket' })), 'InvalidParameterValue');
    const a = cnClient('gaap', server, { account: ACCOUNT_A });
    assert.equal((await a.DescribeResourcesByTag({ TagKey: 'owner', TagValue: 'ops' })).TotalCount, 0);
    // Tags edited through the Tag API are what GAAP's own lookups see.
    const tag = tagClient(server, ACCOUNT_B);
    await tag.ModifyResourceTags({ Resource: `qcs::gaap::uin/${ACCOUNT_B.uin}:proxy/${InstanceId}`, ReplaceTags: [{ TagKey: 'owner', TagValue: 'sre' }] });
    const moved = await c.DescribeResourcesByTag({ TagKey: 'owner', TagValue: 'sre' });
    assert.deepEqual(moved.ResourceSet, [{ ResourceType: 'Proxy', ResourceId: InstanceId }]);
    const byTag = await c.DescribeProxies({ TagSet: [{ TagKey: 'owner', TagValue: 'sre' }] });
    assert.deepEqual(byTag.ProxySet.map((p: any) => p.ProxyId), [InstanceId]);
    assert.equal((await c.DescribeProxies({ TagSet: [{ TagKey: 'owner', TagValue: 'ops' }] })).TotalCount, 0);
    await tag.ModifyResourceTags({ Resource: `qcs::gaap::uin/${ACCOUNT_B.uin}:proxy/${InstanceId}`, ReplaceTags: [{ TagKey: 'owner', TagValue: 'ops' }] });
    await c.DestroyProxies({ ProxyIds: [InstanceId], Force: 1 });
    const afterDestroy = await c.DescribeResourcesByTag({ TagKey: 'owner', TagValue: 'ops' });
    assert.deepEqual(afterDestroy.ResourceSet, [{ ResourceType: 'ProxyGroup', ResourceId: GroupId }]);
  });
});

describe('gaap proxy groups: transient statuses', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ ...MANUAL_TRANSITIONS, rateLimits: false });
  });
  after(() => server.stop());

  it('CREATING (1) → RUNNING (0), CHANGING while proxies move, DESTROYING (4) → gone', async () => {
    const c = cnClient('gaap', server);
    const res = await c.CreateProxyGroup(groupInput);
    const d = (await c.DescribeProxyGroupDetails({ GroupId: res.GroupId })).ProxyGroupDetail;
    assert.equal(d.Status, 1);
    const l = (await c.DescribeProxyGroupList({ Offset: 0, Limit: 20, ProjectId: -1 })).ProxyGroupList[0];
    assert.equal(l.Status, 'CREATING');
    assert.equal((await c.DescribeTaskStatus({ TaskId: res.RequestId })).Status, 'RUNNING');
    assert.equal(await errorCode(c.CloseProxyGroup({ GroupId: res.GroupId })), 'FailedOperation');
    assert.equal(await errorCode(c.DeleteProxyGroup({ GroupId: res.GroupId, Force: 1 })), 'FailedOperation.GroupStatusNotInRuning');
    await advance(server);
    assert.equal((await c.DescribeTaskStatus({ TaskId: res.RequestId })).Status, 'SUCCESS');
    assert.equal((await c.DescribeProxyGroupDetails({ GroupId: res.GroupId })).ProxyGroupDetail.Status, 0);
    await c.CloseProxyGroup({ GroupId: res.GroupId });
    const changing = (await c.DescribeProxyGroupList({ Offset: 0, Limit: 20, ProjectId: -1 })).ProxyGroupList[0];
    assert.equal(changing.Status, 'CHANGING');
    assert.equal((await c.DescribeProxyGroupDetails({ GroupId: res.GroupId })).ProxyGroupDetail.Status, 12);
    await advance(server);
    assert.equal((await c.DescribeProxyGroupList({ Offset: 0, Limit: 20, ProjectId: -1 })).ProxyGroupList[0].Status, 'CLOSED');
    const del = await c.DeleteProxyGroup({ GroupId: res.GroupId, Force: 1 });
    assert.equal((await c.DescribeProxyGroupDetails({ GroupId: res.GroupId })).ProxyGroupDetail.Status, 4);
    assert.equal((await c.DescribeProxyGroupList({ Offset: 0, Limit: 20, ProjectId: -1 })).ProxyGroupList[0].Status, 'DESTROYING');
    const proxies = (await c.DescribeProxies({})).ProxySet;
    assert.deepEqual(proxies.map((p: any) => p.Status), ['DESTROYING', 'DESTROYING']);
    await advance(server);
    assert.equal((await c.DescribeTaskStatus({ TaskId: del.RequestId })).Status, 'SUCCESS');
    assert.equal((await c.DescribeProxyGroupList({ Offset: 0, Limit: 20, ProjectId: -1 })).TotalCount, 0);
    assert.equal((await c.DescribeProxies({})).TotalCount, 0);
  });
});
