/**
 * GAAP names resolve through tclocal's DNS server: proxy domains, group
 * domains and global domains, asked through Node's resolver and dig.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ACCOUNT_B, cnClient, startTclocal } from '../helpers';
import { dig, digShort, digStatus, resolver } from './clients';

type Server = Awaited<ReturnType<typeof startTclocal>>;

const GERMANY = '201003';
const JAPAN = '101008';
/** Distinct 127/8 source addresses per run, so parallel runs never share one. */
const base = 2 + Math.floor(Math.random() * 200);
const IN_GERMANY = `127.0.${base}.2`;
const IN_JAPAN = `127.0.${base}.3`;

const nxdomain = async (p: Promise<unknown>) => assert.equal(((await p.then(() => undefined, (e) => e)) as { code?: string })?.code, 'ENOTFOUND');

describe('dns: GAAP names', () => {
  let server: Server;
  let gaap: any;
  const proxy = async (c: any, name: string, region: string) => {
    const { InstanceId } = await c.CreateProxy({ ProjectId: 0, ProxyName: name, AccessRegion: region, RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 });
    return (await c.DescribeProxies({ ProxyIds: [InstanceId] })).ProxySet[0];
  };

  before(async () => {
    server = await startTclocal({
      rateLimits: false,
      dnsCountries: [
        { cidr: `${IN_GERMANY}/32`, code: GERMANY },
        { cidr: `${IN_JAPAN}/32`, code: JAPAN },
        // Client subnets a query can claim (documentation ranges).
        { cidr: '198.51.100.0/24', code: GERMANY },
        { cidr: '203.0.113.0/24', code: JAPAN },
        { cidr: '0.0.0.0/0', code: '101001' },
      ],
    });
    gaap = cnClient('gaap', server);
  });
  after(async () => {
    await server.stop();
  });

  it('a proxy Domain answers A with the proxy IP, any letter case, TTL 60; closed or destroyed: NXDOMAIN', async () => {
    const p = await proxy(gaap, 'dns-a', 'Japan');
    assert.equal(p.Status, 'RUNNING');
    const r = resolver(server);
    assert.deepEqual(await r.resolve4(p.Domain, { ttl: true }), [{ address: p.IP, ttl: 60 }]);
    assert.deepEqual(await r.resolve4(p.Domain.toUpperCase()), [p.IP]);
    assert.deepEqual(await digShort(server, p.Domain, 'A'), [p.IP]);
    // No IPv6 address: the name exists, with no AAAA (NOERROR, empty).
    assert.equal(await digStatus(server, p.Domain, 'AAAA'), 'NOERROR');
    assert.deepEqual(await digShort(server, p.Domain, 'AAAA'), []);

    await gaap.CloseProxies({ ProxyIds: [p.ProxyId] });
    await nxdomain(r.resolve4(p.Domain));
    assert.equal(await digStatus(server, p.Domain, 'A'), 'NXDOMAIN');
    await gaap.OpenProxies({ ProxyIds: [p.ProxyId] });
    assert.deepEqual(await r.resolve4(p.Domain), [p.IP]);
    await gaap.DestroyProxies({ ProxyIds: [p.ProxyId], Force: 1 });
    await nxdomain(r.resolve4(p.Domain));
  });

  it('an IPv6 proxy answers AAAA with its address, and no A', async () => {
    const { InstanceId } = await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'dns-v6', AccessRegion: 'Beijing', RealServerRegion: 'Hongkong', Bandwidth: 10, Concurrent: 2, IPAddressVersion: 'IPv6' });
    const p = (await gaap.DescribeProxies({ ProxyIds: [InstanceId] })).ProxySet[0];
    assert.ok(p.IP.includes(':'));
    assert.deepEqual(await resolver(server).resolve6(p.Domain), [p.IP]);
    assert.deepEqual(await digShort(server, p.Domain, 'A'), []);
    assert.equal(await digStatus(server, p.Domain, 'A'), 'NOERROR');
  });

  it('every account\'s names resolve; unknown names in the zone are NXDOMAIN, names outside it REFUSED', async () => {
    const p = await proxy(cnClient('gaap', server, { account: ACCOUNT_B }), 'dns-b', 'Hongkong');
    assert.deepEqual(await resolver(server).resolve4(p.Domain), [p.IP]);
    await nxdomain(resolver(server).resolve4('link-nosuch00.gaapqcloud.com.cn'));
    const nx = await dig(server, 'link-nosuch00.gaapqcloud.com.cn', 'A');
    assert.match(nx, /status: NXDOMAIN/);
    assert.match(nx, /AUTHORITY SECTION:\s+gaapqcloud\.com\.cn\.\s+60\s+IN\s+SOA/);
    assert.equal(await digStatus(server, 'www.example.com', 'A'), 'REFUSED');
  });

  it('a group domain answers its running members; nearest access sends listed countries to their region, others to DefaultDnsIp', async () => {
    const { GroupId } = await gaap.CreateProxyGroup({
      ProjectId: 0, GroupName: 'dns-group', RealServerRegion: 'Beijing',
      AccessRegionSet: [{ AccessRegion: 'Hongkong', Bandwidth: 10, Concurrent: 2 }, { AccessRegion: 'Japan', Bandwidth: 10, Concurrent: 2 }],
    });
    const { ProxySet } = await gaap.DescribeProxies({ Filters: [{ Name: 'GroupId', Values: [GroupId] }] });
    const byRegion = Object.fromEntries(ProxySet.map((p: any) => [p.AccessRegion, p.IP]));
    const name = `${GroupId}.gaapqcloud.com.cn`;
    // No domain until CreateProxyGroupDomain.
    await nxdomain(resolver(server).resolve4(name));
    await gaap.CreateProxyGroupDomain({ GroupId });
    const { ProxyGroupList } = await gaap.DescribeProxyGroupList({ ProjectId: -1, Offset: 0, Limit: 100 });
    assert.equal(ProxyGroupList.find((g: any) => g.GroupId === GroupId).Domain, name);
    assert.deepEqual((await resolver(server).resolve4(name)).sort(), [byRegion.Hongkong, byRegion.Japan].sort());

    await gaap.ModifyGroupDomainConfig({ GroupId, DefaultDnsIp: '192.0.2.77', AccessRegionList: [{ RegionId: 'Japan', NationCountryInnerList: [GERMANY] }] });
    assert.deepEqual(await resolver(server, IN_GERMANY).resolve4(name), [byRegion.Japan]);
    assert.deepEqual(await resolver(server).resolve4(name), ['192.0.2.77']);
    assert.deepEqual(await digShort(server, '-b', IN_GERMANY, name), [byRegion.Japan]);
  });

  it('a global domain answers by the client\'s country, from the CIDR table or the EDNS client subnet, else DefaultValue as A or CNAME', async () => {
    const de = await proxy(gaap, 'dns-de', 'Japan');
    const jp = await proxy(gaap, 'dns-jp', 'Hongkong');
    const { DomainId } = await gaap.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '192.0.2.1' });
    await gaap.CreateGlobalDomainDns({ DomainId, ProxyIdList: [de.ProxyId], NationCountryInnerCodes: [GERMANY] });
    await gaap.CreateGlobalDomainDns({ DomainId, ProxyIdList: [jp.ProxyId], NationCountryInnerCodes: [JAPAN] });
    const { Domains } = await gaap.DescribeGlobalDomains({ ProjectId: -1, Offset: 0, Limit: 10, Filters: [{ Name: 'DomainId', Values: [DomainId] }] });
    const name = Domains[0].FullDomain;

    // By the source address.
    assert.deepEqual(await resolver(server, IN_GERMANY).resolve4(name), [de.IP]);
    assert.deepEqual(await resolver(server, IN_JAPAN).resolve4(name), [jp.IP]);
    assert.deepEqual(await resolver(server).resolve4(name), ['192.0.2.1']);
    assert.deepEqual(await digShort(server, '-b', IN_JAPAN, name), [jp.IP]);
    // By the client subnet the query carries, whatever its source.
    assert.deepEqual(await digShort(server, '+subnet=198.51.100.0/24', name), [de.IP]);
    assert.deepEqual(await digShort(server, '+subnet=203.0.113.0/24', name), [jp.IP]);
    const withSubnet = await dig(server, '-b', IN_JAPAN, '+subnet=198.51.100.0/24', name);
    assert.match(withSubnet, new RegExp(`IN\\s+A\\s+${de.IP.replace(/\./g, '\\.')}`));
    assert.match(withSubnet, /CLIENT-SUBNET: 198\.51\.100\.0\/24\/24/);

    // The country's proxies stop serving: the default answers.
    await gaap.CloseProxies({ ProxyIds: [jp.ProxyId] });
    assert.deepEqual(await resolver(server, IN_JAPAN).resolve4(name), ['192.0.2.1']);
    await gaap.OpenProxies({ ProxyIds: [jp.ProxyId] });

    // DefaultValue a host name: CNAME.
    await gaap.ModifyGlobalDomainAttribute({ DomainId, ProjectId: 0, DefaultValue: 'fallback.example.net' });
    assert.deepEqual(await resolver(server).resolveCname(name), ['fallback.example.net']);
    assert.match(await dig(server, name, 'A'), /IN\s+CNAME\s+fallback\.example\.net\./);
    assert.deepEqual(await resolver(server, IN_GERMANY).resolve4(name), [de.IP]);
    // A DefaultValue naming another GAAP name is followed.
    await gaap.ModifyGlobalDomainAttribute({ DomainId, ProjectId: 0, DefaultValue: jp.Domain });
    assert.deepEqual(await digShort(server, name, 'A'), [`${jp.Domain}.`, jp.IP]);

    // Moving a country to another record applies to the next query.
    const { GlobalDnsList } = await gaap.DescribeGlobalDomainDns({ DomainId });
    const deRecord = GlobalDnsList.find((r: any) => r.AccessList[0].ProxyId === de.ProxyId);
    await gaap.ModifyGlobalDomainDns({ DnsRecordId: deRecord.DnsRecordId, DomainId, ProxyIdList: [jp.ProxyId], NationCountryInnerCodes: [GERMANY] });
    assert.deepEqual(await resolver(server, IN_GERMANY).resolve4(name), [jp.IP]);
  });

  it('a disabled global domain is NXDOMAIN until enabled again', async () => {
    const { DomainId } = await gaap.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '192.0.2.9' });
    const { Domains } = await gaap.DescribeGlobalDomains({ ProjectId: -1, Offset: 0, Limit: 10, Filters: [{ Name: 'DomainId', Values: [DomainId] }] });
    const name = Domains[0].FullDomain;
    assert.deepEqual(await resolver(server).resolve4(name), ['192.0.2.9']);
    await gaap.DisableGlobalDomain({ DomainId });
    await nxdomain(resolver(server).resolve4(name));
    assert.equal(await digStatus(server, name, 'A'), 'NXDOMAIN');
    await gaap.EnableGlobalDomain({ DomainId });
    assert.deepEqual(await resolver(server).resolve4(name), ['192.0.2.9']);
    await gaap.DisableGlobalDomain({ DomainId });
    await gaap.DeleteGlobalDomain({ DomainId });
    await nxdomain(resolver(server).resolve4(name));
  });
});

describe('dns: banned resources', () => {
  it('a banned global domain or proxy does not resolve (BanStatus set through a state import)', async () => {
    const server = await startTclocal({ rateLimits: false });
    try {
      const gaap = cnClient('gaap', server);
      const { InstanceId } = await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'ban', AccessRegion: 'Japan', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 });
      const p = (await gaap.DescribeProxies({ ProxyIds: [InstanceId] })).ProxySet[0];
      const { DomainId } = await gaap.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '192.0.2.3' });
      const name = (await gaap.DescribeGlobalDomains({ ProjectId: -1, Offset: 0, Limit: 10 })).Domains[0].FullDomain;
      assert.deepEqual(await resolver(server).resolve4(name), ['192.0.2.3']);
      assert.deepEqual(await resolver(server).resolve4(p.Domain), [p.IP]);
      // No action bans a resource: the operator's side does. An edited state export stands in for it.
      const state = (await (await fetch(`${server.url}/_tclocal/state`)).json()) as any;
      for (const row of state.tables.resources) {
        if (row.id !== DomainId && row.id !== InstanceId) continue;
        row.data = JSON.stringify({ ...JSON.parse(row.data), BanStatus: 'BANNED' });
      }
      assert.equal((await fetch(`${server.url}/_tclocal/state`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(state) })).status, 200);
      await nxdomain(resolver(server).resolve4(name));
      await nxdomain(resolver(server).resolve4(p.Domain));
    } finally {
      await server.stop();
    }
  });
});

describe('dns: state survives a restart', () => {
  it('a proxy made before a restart resolves after it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tclocal-dns-'));
    try {
      let server = await startTclocal({ inMemory: false, dataDir, rateLimits: false });
      const gaap = cnClient('gaap', server);
      const { InstanceId } = await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'kept', AccessRegion: 'Japan', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 });
      const p = (await gaap.DescribeProxies({ ProxyIds: [InstanceId] })).ProxySet[0];
      await server.stop();
      server = await startTclocal({ inMemory: false, dataDir, rateLimits: false });
      try {
        assert.deepEqual(await resolver(server).resolve4(p.Domain), [p.IP]);
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
