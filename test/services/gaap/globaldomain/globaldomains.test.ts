import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../../src/server';
import { relatedGlobalDomains } from '../../../../src/services/gaap/globaldomain/links';
import { ACCOUNT_A, ACCOUNT_B, advance, cnClient, errorCode, MANUAL_TRANSITIONS, startWithTwoAccounts } from '../../../helpers';
import { assertResponseShape } from '../../../support/response-shape';
import { seedProxy } from '../catalogue/fixtures';

const shaped = (action: string, r: any) => {
  assertResponseShape('gaap', action, r);
  return r;
};

async function findDomain(c: any, id: string, projectId = -1) {
  const r = shaped('DescribeGlobalDomains', await c.DescribeGlobalDomains({ ProjectId: projectId, Offset: 0, Limit: 20, Filters: [{ Name: 'DomainId', Values: [id] }] }));
  return r.Domains[0];
}

describe('gaap global domains', () => {
  let server: RunningServer;
  let a: any;
  let b: any;
  before(async () => {
    ({ server, a, b } = await startWithTwoAccounts({ rateLimits: false }));
    await seedProxy(server, ACCOUNT_A, 'link-gd000001', { AccessRegion: 'Hongkong', IP: '1.2.3.4', IPList: [{ IP: '1.2.3.4', Provider: 'BGP', Bandwidth: 10 }] });
    await seedProxy(server, ACCOUNT_A, 'link-gd000002', { AccessRegion: 'Japan', IP: '5.6.7.8' });
    await seedProxy(server, ACCOUNT_A, 'link-gdbanned', { InBanBlacklist: 1 });
    await seedProxy(server, ACCOUNT_B, 'link-gdbbbbbb');
  });
  after(async () => {
    await server.stop();
  });

  it('CreateGlobalDomain then DescribeGlobalDomains returns it, open, with its tags', async () => {
    const r = shaped('CreateGlobalDomain', await a.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '127.0.0.1', Alias: 'my-alias', TagSet: [{ TagKey: 'env', TagValue: 'prod' }] }));
    assert.match(r.DomainId, /^dm-[a-z0-9]{8}$/);
    const d = await findDomain(a, r.DomainId);
    assert.equal(d.DomainId, r.DomainId);
    assert.match(d.FullDomain, /^gd-[a-z0-9]{8}\.gaapqcloud\.com\.cn$/);
    assert.equal(d.Alias, 'my-alias');
    assert.equal(d.Type, 'IP');
    assert.equal(d.Status, 0);
    assert.equal(d.ProjectId, 0);
    assert.equal(d.DefaultValue, '127.0.0.1');
    assert.equal(d.ProxyCount, 0);
    assert.equal(d.BanStatus, 'RECOVER');
    assert.deepEqual(d.TagSet, [{ TagKey: 'env', TagValue: 'prod' }]);
    assert.ok(Math.abs(d.CreateTime - Date.now() / 1000) < 60);
    const cname = shaped('CreateGlobalDomain', await a.CreateGlobalDomain({ ProjectId: 0, DefaultValue: 'origin.example.com' }));
    const c = await findDomain(a, cname.DomainId);
    assert.equal(c.Type, 'CNAME');
    assert.equal(c.Alias, '');
    assert.deepEqual(c.TagSet, []);
  });

  it('CreateGlobalDomain validates DefaultValue, ProjectId and tags', async () => {
    let e = await a.CreateGlobalDomain({ ProjectId: 0, DefaultValue: 'not a host!' }).catch((x: any) => x);
    assert.equal(e.code, 'InvalidParameterValue');
    assert.match(e.message, /DefaultValue/);
    assert.equal(await errorCode(a.CreateGlobalDomain({ ProjectId: -1, DefaultValue: '1.1.1.1' })), 'InvalidParameterValue');
    assert.equal(await errorCode(a.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '1.1.1.1', TagSet: [{ TagKey: '', TagValue: 'x' }] })), 'InvalidParameterValue');
    const many = Array.from({ length: 51 }, (_, i) => ({ TagKey: `k${i}`, TagValue: 'v' }));
    assert.equal(await errorCode(a.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '1.1.1.1', TagSet: many })), 'LimitExceeded.TagQuota');
    e = await a.CreateGlobalDomain({ ProjectId: 0 }).catch((x: any) => x);
    assert.equal(e.code, 'MissingParameter');
    assert.match(e.message, /DefaultValue/);
  });

  it('DescribeGlobalDomains: project, filters, tags (OR), paging', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await a.CreateGlobalDomain({ ProjectId: 7, DefaultValue: `10.0.0.${i}`, Alias: `page-${i}`, TagSet: [{ TagKey: 'team', TagValue: i === 2 ? 'blue' : 'red' }] });
      ids.push(r.DomainId);
    }
    const all7 = shaped('DescribeGlobalDomains', await a.DescribeGlobalDomains({ ProjectId: 7, Offset: 0, Limit: 10 }));
    assert.equal(all7.TotalCount, 3);
    // Newest first.
    assert.deepEqual(all7.Domains.map((d: any) => d.DomainId), [...ids].reverse());
    const page = shaped('DescribeGlobalDomains', await a.DescribeGlobalDomains({ ProjectId: 7, Offset: 1, Limit: 1 }));
    assert.equal(page.TotalCount, 3);
    assert.deepEqual(page.Domains.map((d: any) => d.DomainId), [ids[1]]);
    const everything = await a.DescribeGlobalDomains({ ProjectId: -1, Offset: 0, Limit: 100 });
    assert.ok(everything.TotalCount >= 5);
    const byAlias = await a.DescribeGlobalDomains({ ProjectId: -1, Offset: 0, Limit: 10, Filters: [{ Name: 'Alias', Values: ['page-0', 'page-2'] }] });
    assert.deepEqual(byAlias.Domains.map((d: any) => d.DomainId).sort(), [ids[0], ids[2]].sort());
    const byTag = await a.DescribeGlobalDomains({ ProjectId: 7, Offset: 0, Limit: 10, TagSet: [{ TagKey: 'team', TagValue: 'blue' }, { TagKey: 'nope', TagValue: 'x' }] });
    assert.deepEqual(byTag.Domains.map((d: any) => d.DomainId), [ids[2]]);
    const none = shaped('DescribeGlobalDomains', await a.DescribeGlobalDomains({ ProjectId: 8, Offset: 0, Limit: 10 }));
    assert.equal(none.TotalCount, 0);
    assert.equal(await errorCode(a.DescribeGlobalDomains({ ProjectId: 7, Offset: 0, Limit: 10, Filters: [{ Name: 'Colour', Values: ['x'] }] })), 'InvalidParameterValue');
    const six = Array.from({ length: 6 }, (_, i) => ({ TagKey: `k${i}`, TagValue: 'v' }));
    assert.equal(await errorCode(a.DescribeGlobalDomains({ ProjectId: 7, Offset: 0, Limit: 10, TagSet: six })), 'InvalidParameterValue');
    assert.equal(await errorCode(a.DescribeGlobalDomains({ ProjectId: 7, Offset: 0, Limit: 10, TagSet: [{ TagKey: '', TagValue: 'v' }] })), 'InvalidParameterValue.InvalidTags');
    assert.equal(await errorCode(a.DescribeGlobalDomains({ ProjectId: 7, Offset: 0 })), 'MissingParameter');
  });

  it('ModifyGlobalDomainAttribute changes alias, default value and project', async () => {
    const { DomainId } = await a.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '1.1.1.1', Alias: 'before' });
    shaped('ModifyGlobalDomainAttribute', await a.ModifyGlobalDomainAttribute({ DomainId, ProjectId: 3, Alias: 'after', DefaultValue: 'edge.example.org' }));
    const d = await findDomain(a, DomainId);
    assert.equal(d.Alias, 'after');
    assert.equal(d.DefaultValue, 'edge.example.org');
    assert.equal(d.Type, 'CNAME');
    assert.equal(d.ProjectId, 3);
    assert.equal(await errorCode(a.ModifyGlobalDomainAttribute({ DomainId, ProjectId: 3, DefaultValue: '::::' })), 'InvalidParameterValue');
    const e = await a.ModifyGlobalDomainAttribute({ DomainId: 'dm-nothere0', ProjectId: 0 }).catch((x: any) => x);
    assert.equal(e.code, 'FailedOperation');
    assert.match(e.message, /dm-nothere0/);
  });

  it('Disable / Enable / Delete: statuses and preconditions', async () => {
    const { DomainId } = await a.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '2.2.2.2' });
    let e = await a.DeleteGlobalDomain({ DomainId }).catch((x: any) => x);
    assert.equal(e.code, 'FailedOperation');
    assert.match(e.message, /disabled/);
    shaped('DisableGlobalDomain', await a.DisableGlobalDomain({ DomainId }));
    assert.equal((await findDomain(a, DomainId)).Status, 1);
    // Repeating is harmless.
    await a.DisableGlobalDomain({ DomainId });
    shaped('EnableGlobalDomain', await a.EnableGlobalDomain({ DomainId }));
    assert.equal((await findDomain(a, DomainId)).Status, 0);
    await a.DisableGlobalDomain({ DomainId });
    shaped('DeleteGlobalDomain', await a.DeleteGlobalDomain({ DomainId }));
    assert.equal(await findDomain(a, DomainId), undefined);
    e = await a.EnableGlobalDomain({ DomainId }).catch((x: any) => x);
    assert.equal(e.code, 'FailedOperation');
    assert.match(e.message, new RegExp(DomainId));
    assert.equal(await errorCode(a.DisableGlobalDomain({ DomainId })), 'FailedOperation');
    assert.equal(await errorCode(a.DeleteGlobalDomain({ DomainId })), 'FailedOperation');
  });

  it('DNS records: create (no id returned), describe, modify, delete', async () => {
    const { DomainId } = await a.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '3.3.3.3' });
    const created = shaped('CreateGlobalDomainDns', await a.CreateGlobalDomainDns({ DomainId, ProxyIdList: ['link-gd000001'], NationCountryInnerCodes: ['101007', '101004'] }));
    assert.deepEqual(Object.keys(created), ['RequestId']);
    let list = shaped('DescribeGlobalDomainDns', await a.DescribeGlobalDomainDns({ DomainId })).GlobalDnsList;
    assert.equal(list.length, 1);
    const rec = list[0];
    assert.ok(Number.isInteger(rec.DnsRecordId) && rec.DnsRecordId > 0);
    assert.equal(rec.Status, 1);
    assert.deepEqual(rec.CountryAreaList.map((c: any) => [c.NationCountryInnerCode, c.NationCountryName]), [['101007', '韩国'], ['101004', '中国大陆-华西']]);
    assert.deepEqual(rec.AccessList, [{
      RegionId: 'Hongkong', RegionName: '中国香港', ProxyId: 'link-gd000001', Vip: '1.2.3.4', VipList: [{ IP: '1.2.3.4', Provider: 'BGP', Bandwidth: 10 }], SourceRegionIdcType: 'dc',
    }]);
    assert.equal((await findDomain(a, DomainId)).ProxyCount, 1);
    // English names for an English caller.
    const en = await cnClient('gaap', server, { account: ACCOUNT_A, language: 'en-US' }).DescribeGlobalDomainDns({ DomainId });
    assert.equal(en.GlobalDnsList[0].CountryAreaList[0].NationCountryName, 'Korea');

    await a.CreateGlobalDomainDns({ DomainId, ProxyIdList: ['link-gd000002', 'link-gd000001'], NationCountryInnerCodes: ['101008'] });
    list = (await a.DescribeGlobalDomainDns({ DomainId })).GlobalDnsList;
    assert.equal(list.length, 2);
    assert.ok(list[1].DnsRecordId > list[0].DnsRecordId);
    assert.equal((await findDomain(a, DomainId)).ProxyCount, 2);
    assert.deepEqual(await server.store.transaction(ACCOUNT_A.uin, (tx) => relatedGlobalDomains(tx, 'link-gd000002')), [DomainId]);

    shaped('ModifyGlobalDomainDns', await a.ModifyGlobalDomainDns({ DnsRecordId: rec.DnsRecordId, DomainId, NationCountryInnerCodes: ['301001'], ProxyIdList: ['link-gd000002'] }));
    list = (await a.DescribeGlobalDomainDns({ DomainId })).GlobalDnsList;
    const modified = list.find((x: any) => x.DnsRecordId === rec.DnsRecordId);
    assert.deepEqual(modified.CountryAreaList.map((c: any) => c.NationCountryInnerCode), ['301001']);
    assert.deepEqual(modified.AccessList.map((x: any) => x.ProxyId), ['link-gd000002']);
    assert.equal(modified.Status, 1);

    shaped('DeleteGlobalDomainDns', await a.DeleteGlobalDomainDns({ DnsRecordId: rec.DnsRecordId }));
    list = (await a.DescribeGlobalDomainDns({ DomainId })).GlobalDnsList;
    assert.equal(list.length, 1);
    assert.notEqual(list[0].DnsRecordId, rec.DnsRecordId);
    assert.equal(await errorCode(a.DeleteGlobalDomainDns({ DnsRecordId: rec.DnsRecordId })), 'FailedOperation');
    // Deleting the (disabled) domain takes its records along.
    await a.DisableGlobalDomain({ DomainId });
    await a.DeleteGlobalDomain({ DomainId });
    assert.equal(await errorCode(a.DeleteGlobalDomainDns({ DnsRecordId: list[0].DnsRecordId })), 'FailedOperation');
  });

  it('DNS records: proxies, countries and conflicts are checked', async () => {
    const { DomainId } = await a.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '4.4.4.4' });
    const ok = { DomainId, ProxyIdList: ['link-gd000001'], NationCountryInnerCodes: ['102001'] };
    let e = await a.CreateGlobalDomainDns({ ...ok, ProxyIdList: ['link-nothere1'] }).catch((x: any) => x);
    assert.equal(e.code, 'ResourceNotFound');
    assert.match(e.message, /link-nothere1/);
    // Another account's proxy is not visible.
    assert.equal(await errorCode(a.CreateGlobalDomainDns({ ...ok, ProxyIdList: ['link-gdbbbbbb'] })), 'ResourceNotFound');
    assert.equal(await errorCode(a.CreateGlobalDomainDns({ ...ok, ProxyIdList: ['link-gdbanned'] })), 'InvalidParameterValue.HitBanBlacklist');
    e = await a.CreateGlobalDomainDns({ ...ok, NationCountryInnerCodes: ['CN'] }).catch((x: any) => x);
    assert.equal(e.code, 'InvalidParameterValue');
    assert.match(e.message, /NationCountryInnerCodes/);
    assert.equal(await errorCode(a.CreateGlobalDomainDns({ ...ok, NationCountryInnerCodes: [] })), 'InvalidParameterValue');
    assert.equal(await errorCode(a.CreateGlobalDomainDns({ ...ok, ProxyIdList: [] })), 'InvalidParameterValue');
    assert.equal(await errorCode(a.CreateGlobalDomainDns({ ...ok, DomainId: 'dm-nothere0' })), 'FailedOperation');
    await a.CreateGlobalDomainDns(ok);
    e = await a.CreateGlobalDomainDns({ ...ok, NationCountryInnerCodes: ['102002', '102001'] }).catch((x: any) => x);
    assert.equal(e.code, 'InvalidParameterValue');
    assert.match(e.message, /102001/);
    const [rec] = (await a.DescribeGlobalDomainDns({ DomainId })).GlobalDnsList;
    const other = await a.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '4.4.4.5' });
    assert.equal(await errorCode(a.ModifyGlobalDomainDns({ DnsRecordId: rec.DnsRecordId, DomainId: other.DomainId, NationCountryInnerCodes: ['102001'], ProxyIdList: ['link-gd000001'] })), 'FailedOperation');
    assert.equal(await errorCode(a.ModifyGlobalDomainDns({ DnsRecordId: 999999, DomainId, NationCountryInnerCodes: ['102001'], ProxyIdList: ['link-gd000001'] })), 'FailedOperation');
    // Modifying a record to its own countries is fine.
    await a.ModifyGlobalDomainDns({ DnsRecordId: rec.DnsRecordId, DomainId, NationCountryInnerCodes: ['102001', '102003'], ProxyIdList: ['link-gd000001'] });
    assert.equal(await errorCode(a.DescribeGlobalDomainDns({ DomainId: 'dm-nothere0' })), 'FailedOperation');
  });

  it('a DNS record resolves to a proxy created through the API', async () => {
    const { InstanceId } = await a.CreateProxy({ ProjectId: 0, ProxyName: 'gd-api', AccessRegion: 'Japan', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 });
    const proxy = (await a.DescribeProxies({ ProxyIds: [InstanceId] })).ProxySet[0];
    const { DomainId } = await a.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '8.8.8.8' });
    await a.CreateGlobalDomainDns({ DomainId, ProxyIdList: [InstanceId], NationCountryInnerCodes: ['101008'] });
    const [rec] = shaped('DescribeGlobalDomainDns', await a.DescribeGlobalDomainDns({ DomainId })).GlobalDnsList;
    assert.equal(rec.AccessList[0].ProxyId, InstanceId);
    assert.equal(rec.AccessList[0].RegionId, 'Japan');
    assert.equal(rec.AccessList[0].Vip, proxy.IP);
    assert.deepEqual(rec.AccessList[0].VipList, proxy.IPList);
  });

  it('accounts are isolated', async () => {
    const { DomainId } = await a.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '5.5.5.5' });
    await a.CreateGlobalDomainDns({ DomainId, ProxyIdList: ['link-gd000001'], NationCountryInnerCodes: ['101001'] });
    const [rec] = (await a.DescribeGlobalDomainDns({ DomainId })).GlobalDnsList;
    const seen = await b.DescribeGlobalDomains({ ProjectId: -1, Offset: 0, Limit: 100 });
    assert.ok(!seen.Domains.some((d: any) => d.DomainId === DomainId));
    assert.equal(await errorCode(b.DescribeGlobalDomainDns({ DomainId })), 'FailedOperation');
    assert.equal(await errorCode(b.DisableGlobalDomain({ DomainId })), 'FailedOperation');
    assert.equal(await errorCode(b.ModifyGlobalDomainAttribute({ DomainId, ProjectId: 0, Alias: 'x' })), 'FailedOperation');
    assert.equal(await errorCode(b.DeleteGlobalDomainDns({ DnsRecordId: rec.DnsRecordId })), 'FailedOperation');
    assert.equal((await findDomain(a, DomainId)).Alias, '');
  });
});

describe('gaap global domains: transient statuses', () => {
  let server: RunningServer;
  let a: any;
  before(async () => {
    ({ server, a } = await startWithTwoAccounts({ ...MANUAL_TRANSITIONS, rateLimits: false }));
    await seedProxy(server, ACCOUNT_A, 'link-gd000001');
  });
  after(async () => {
    await server.stop();
  });

  it('domain: 0 → 2 → 1 on disable and 1 → 3 → 0 on enable', async () => {
    const { DomainId } = await a.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '6.6.6.6' });
    assert.equal((await findDomain(a, DomainId)).Status, 0);
    await a.DisableGlobalDomain({ DomainId });
    assert.equal((await findDomain(a, DomainId)).Status, 2);
    // Enabling while closing, or deleting, is refused.
    assert.equal(await errorCode(a.EnableGlobalDomain({ DomainId })), 'FailedOperation');
    assert.equal(await errorCode(a.DeleteGlobalDomain({ DomainId })), 'FailedOperation');
    await advance(server);
    assert.equal((await findDomain(a, DomainId)).Status, 1);
    await a.EnableGlobalDomain({ DomainId });
    assert.equal((await findDomain(a, DomainId)).Status, 3);
    await advance(server);
    assert.equal((await findDomain(a, DomainId)).Status, 0);
  });

  it('DNS record: 2 → 1 on create, 3 → 1 on modify, 4 → gone on delete', async () => {
    const { DomainId } = await a.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '7.7.7.7' });
    await a.CreateGlobalDomainDns({ DomainId, ProxyIdList: ['link-gd000001'], NationCountryInnerCodes: ['101001'] });
    const status = async () => (await a.DescribeGlobalDomainDns({ DomainId })).GlobalDnsList.map((r: any) => r.Status);
    assert.deepEqual(await status(), [2]);
    const [rec] = (await a.DescribeGlobalDomainDns({ DomainId })).GlobalDnsList;
    const mod = { DnsRecordId: rec.DnsRecordId, DomainId, NationCountryInnerCodes: ['101002'], ProxyIdList: ['link-gd000001'] };
    assert.equal(await errorCode(a.ModifyGlobalDomainDns(mod)), 'FailedOperation');
    await advance(server);
    assert.deepEqual(await status(), [1]);
    await a.ModifyGlobalDomainDns(mod);
    assert.deepEqual(await status(), [3]);
    assert.equal(await errorCode(a.DeleteGlobalDomainDns({ DnsRecordId: rec.DnsRecordId })), 'FailedOperation');
    await advance(server);
    assert.deepEqual(await status(), [1]);
    // Deleted records are gone when the call answers (Terraform's destroy check reads at once).
    await a.DeleteGlobalDomainDns({ DnsRecordId: rec.DnsRecordId });
    assert.deepEqual(await status(), []);
  });
});
