import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { cnClient, randomPool, startTclocal } from '../helpers';
import { forwardingListener, startPlane, stopPlane } from '../support/running-proxy';
import { countsTrafficPerOrigin } from './origin-traffic';
import { bj, boundListener, exchange, type Origin, randomPort, tcpOrigin, until, whoAnswers } from './fixtures';


describe('data plane: statistics from real traffic, groups, restarts', () => {
  let origin: Origin;
  const dataDir = mkdtempSync(join(tmpdir(), 'tclocal-dp-'));
  const pool = randomPool();
  let server: RunningServer;
  let gaap: any;
  let rsId: string;

  before(async () => {
    ({ server, gaap, origins: { O: origin }, rsId } = await startPlane({ inMemory: false, dataDir, dataplanePool: pool, dataplaneFlushMs: 100 }, tcpOrigin, ['O']));
  });
  after(async () => {
    await stopPlane({ server, origins: { origin } });
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function sumOf(proxyId: string, metric: string): Promise<number> {
    const now = Math.floor(Date.now() / 1000);
    const r = await gaap.DescribeProxyStatistics({ ProxyId: proxyId, StartTime: bj(now - 600), EndTime: bj(now + 60), Granularity: 60, MetricNames: [metric] });
    return r.StatisticsData[0].MetricData.reduce((s: number, p: any) => s + (p.Data ?? 0), 0);
  }

  let proxyId: string;
  let listenerId: string;
  let ip: string;
  let port: number;

  it('bytes sent through a listener come back from DescribeProxyStatistics as the same figure', async () => {
    ({ proxyId, listenerId, ip, port } = await forwardingListener(server, gaap, { rsId, name: 'stats', origins: [{ port: origin.port }] }));
    const sent = 250_000;
    const answer = await exchange(ip, port, Buffer.alloc(sent, 1));
    assert.equal(answer.length, sent + 2);
    // InBandwidth is each minute's average in bit/s: bytes = Σ Data × 60 / 8.
    await until(async () => Math.round(((await sumOf(proxyId, 'InBandwidth')) * 60) / 8) === sent, 'the inbound bytes');
    await until(async () => Math.round(((await sumOf(proxyId, 'OutBandwidth')) * 60) / 8) === sent + 2, 'the outbound bytes');
    assert.ok((await sumOf(proxyId, 'InPackets')) > 0);
    const now = Math.floor(Date.now() / 1000);
    const l = await gaap.DescribeListenerStatistics({ ListenerId: listenerId, StartTime: bj(now - 3600), EndTime: bj(now), Granularity: 300, MetricNames: ['InBandwidth'] });
    assert.ok(l.StatisticsData[0].MetricData.some((p: any) => p.Data > 0));
  });

  it('Concurrent is the peak of open connections', async () => {
    const held: Socket[] = [];
    for (let i = 0; i < 3; i++) held.push(connect({ host: ip, port }));
    await until(async () => (await boundListener(server, proxyId, listenerId))?.connections === 3, 'three open connections');
    const peak = async () => {
      const now = Math.floor(Date.now() / 1000);
      const r = await gaap.DescribeProxyStatistics({ ProxyId: proxyId, StartTime: bj(now - 120), EndTime: bj(now + 60), Granularity: 60, MetricNames: ['Concurrent'] });
      return Math.max(...r.StatisticsData[0].MetricData.map((p: any) => p.Data ?? 0));
    };
    await until(async () => (await peak()) >= 3, 'the peak of 3 connections');
    for (const s of held) s.destroy();
    await until(async () => (await boundListener(server, proxyId, listenerId))?.connections === 0, 'connections to be gone');
  });

  it('a group listener listens on every member proxy; the group\'s opened security policy applies on each', async () => {
    const { GroupId } = await gaap.CreateProxyGroup({
      ProjectId: 0, GroupName: 'g', RealServerRegion: 'Beijing',
      AccessRegionSet: [{ AccessRegion: 'Hongkong', Bandwidth: 10, Concurrent: 2 }, { AccessRegion: 'Japan', Bandwidth: 10, Concurrent: 2 }],
    });
    const members = (await gaap.DescribeProxies({ Filters: [{ Name: 'GroupId', Values: [GroupId] }] })).ProxySet;
    assert.equal(members.length, 2);
    const gPort = randomPort();
    const { ListenerIds } = await gaap.CreateTCPListeners({ ListenerName: 'g', Ports: [gPort], RealServerPorts: [origin.port], Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP', GroupId });
    await gaap.BindListenerRealServers({ ListenerId: ListenerIds[0], RealServerBindSet: [{ RealServerId: rsId, RealServerIP: '127.0.0.1', RealServerPort: 1 }] });
    assert.notEqual(members[0].IP, members[1].IP);
    for (const p of members) {
      await until(async () => (await whoAnswers(p.IP, gPort)) === 'O', `the group listener on ${p.IP}`);
    }
    await until(async () => {
      const now = Math.floor(Date.now() / 1000);
      const r = await gaap.DescribeProxyGroupStatistics({ GroupId, StartTime: bj(now - 600), EndTime: bj(now + 60), Granularity: 60, MetricNames: ['InBandwidth'] });
      return r.StatisticsData[0].MetricData.some((p: any) => p.Data > 0);
    }, 'the group counters');
    // The group's opened security policy applies on every member.
    const { PolicyId } = await gaap.CreateSecurityPolicy({ GroupId, DefaultAction: 'DROP' });
    await gaap.OpenSecurityPolicy({ PolicyId });
    for (const p of members) {
      await until(async () => (await whoAnswers(p.IP, gPort)) === 'REFUSED', `the group policy on ${p.IP}`);
    }
    await until(async () => (await gaap.DescribeSecurityPolicyDetail({ PolicyId })).Status === 'BOUND', 'the policy to settle');
    await gaap.CloseSecurityPolicy({ PolicyId });
    for (const p of members) {
      await until(async () => (await whoAnswers(p.IP, gPort)) === 'O', `the group policy lifted on ${p.IP}`);
    }
  });

  it('traffic is counted per origin too, each real server of a listener in its own series', () => countsTrafficPerOrigin(server, gaap, rsId));

  it('after a restart every running listener is bound before the server answers, and the counters are still there', async () => {
    const before = await sumOf(proxyId, 'InBandwidth');
    await server.stop();
    server = await startTclocal({ inMemory: false, dataDir, dataplanePool: pool, dataplaneFlushMs: 100 });
    gaap = cnClient('gaap', server);
    // No waiting: startServer returned, so the listener is bound.
    const l = await boundListener(server, proxyId, listenerId);
    assert.deepEqual(l?.bound, { address: ip, port });
    assert.equal(await whoAnswers(ip, port), 'O');
    assert.ok(before > 0);
    assert.ok((await sumOf(proxyId, 'InBandwidth')) >= before - 1e-9);
    // A new proxy does not reuse an address the stored proxies hold.
    const { InstanceId } = await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'after', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 });
    const all = (await gaap.DescribeProxies({ Limit: 100 })).ProxySet;
    const ips = all.map((p: any) => p.IP);
    assert.equal(new Set(ips).size, ips.length, ips.join(','));
    assert.ok(all.some((p: any) => p.ProxyId === InstanceId));
  });
});
