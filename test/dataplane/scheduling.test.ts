import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { DEFAULT_ACCOUNT } from '../helpers';
import { forwardingListener, startPlane, stopPlane } from '../support/running-proxy';
import { boundListener, tcpOrigin, until, whoAnswers, type Origin } from './fixtures';

const tally = (names: string[]) => names.reduce<Record<string, number>>((m, n) => ({ ...m, [n]: (m[n] ?? 0) + 1 }), {});

describe('data plane: schedulers, health checks, failover, session persistence', () => {
  let server: RunningServer;
  let gaap: any;
  let origins: Record<string, Origin>;
  let rsId: string;

  before(async () => {
    // Health checks every 5 s × 0.02 = 100 ms, timeouts 2 s × 0.02 = 40 ms.
    // The health tests poll the describe actions faster than their documented rate limits.
    ({ server, gaap, origins, rsId } = await startPlane({ dataplaneCheckScale: 0.02, dataplaneFlushMs: 100, rateLimits: false }, tcpOrigin, ['A', 'B', 'C']));
  });
  after(() => stopPlane({ server, origins }));

  async function listener(settings: Record<string, unknown>, bindings: Array<{ name: string; weight?: number; role?: string }>) {
    const { proxyId, listenerId, ip, port } = await forwardingListener(server, gaap, {
      rsId, name: 'sched', settings, origins: bindings.map((b) => ({ port: origins[b.name].port, weight: b.weight, role: b.role })),
    });
    const names = async (n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(await whoAnswers(ip, port));
      return out;
    };
    return { proxyId, listenerId, ip, port, names };
  }

  it('rr spreads connections evenly; wrr in proportion to the weights (smooth: never the same origin three times running)', async () => {
    const rr = await listener({ Scheduler: 'rr' }, [{ name: 'A' }, { name: 'B' }, { name: 'C' }]);
    assert.deepEqual(tally(await rr.names(30)), { A: 10, B: 10, C: 10 });
    const wrr = await listener({ Scheduler: 'wrr' }, [{ name: 'A', weight: 1 }, { name: 'B', weight: 2 }, { name: 'C', weight: 3 }]);
    const seq = await wrr.names(60);
    assert.deepEqual(tally(seq), { A: 10, B: 20, C: 30 });
    assert.ok(!seq.join('').includes('CCC'), seq.join(''));
  });

  it('lc sends new connections to the origin with the fewest open ones', async () => {
    const lc = await listener({ Scheduler: 'lc' }, [{ name: 'A' }, { name: 'B' }]);
    const held: Socket[] = [];
    const first = await new Promise<string>((resolve) => {
      const s = connect({ host: lc.ip, port: lc.port });
      held.push(s);
      s.once('data', (d) => resolve(d.toString()[0]));
    });
    const other = first === 'A' ? 'B' : 'A';
    assert.deepEqual(tally(await lc.names(6)), { [other]: 6 });
    for (const s of held) s.destroy();
  });

  it('lrtt sends connections to origins it has measured and keeps working', async () => {
    const l = await listener({ Scheduler: 'lrtt' }, [{ name: 'A' }, { name: 'B' }]);
    const seen = await l.names(10);
    assert.ok(seen.every((n) => n === 'A' || n === 'B'), seen.join(','));
    const report = await boundListener(server, l.proxyId, l.listenerId);
    assert.ok(report!.origins.some((o: any) => typeof o.rttMs === 'number'));
  });

  it('lrtt without health checks leaves an origin that refuses after its first failure (it counts as the slowest), not for want of a measure', async () => {
    const dead = await tcpOrigin('D');
    const deadPort = dead.port;
    await dead.close();
    const { ip, port } = await forwardingListener(server, gaap, { rsId, name: 'lrtt-dead', settings: { Scheduler: 'lrtt' }, origins: [{ port: origins.A.port }, { port: deadPort }] });
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) seen.push(await whoAnswers(ip, port));
    assert.ok(seen.filter((n) => n === 'REFUSED').length <= 1, seen.join(','));
    assert.deepEqual(tally(seen.slice(2)), { A: 8 });
  });

  it('health checks take a dead origin out and bring it back; the API reports each status in its own encoding', async () => {
    const l = await listener({ Scheduler: 'rr', HealthCheck: 1, DelayLoop: 5, ConnectTimeout: 2, HealthyThreshold: 2, UnhealthyThreshold: 2 }, [{ name: 'A' }, { name: 'B' }]);
    const bPort = origins.B.port;
    const status = async () => {
      const d = (await gaap.DescribeTCPListeners({ ListenerId: l.listenerId })).ListenerSet[0];
      const rs = (await gaap.DescribeListenerRealServers({ ListenerId: l.listenerId })).BindRealServerSet;
      return { bind: d.BindStatus, rs: Object.fromEntries(rs.map((r: any) => [r.RealServerPort, r.RealServerStatus])) };
    };
    await origins.B.close();
    await until(async () => (await status()).bind === 0, 'the listener to report an abnormal origin');
    assert.deepEqual((await status()).rs, { [origins.A.port]: 0, [bPort]: 1 });
    assert.deepEqual(tally(await l.names(6)), { A: 6 });
    // The origin comes back on the same port.
    origins.B = await tcpOrigin('B');
    await new Promise<void>((resolve) => origins.B.server.close(() => resolve()));
    await new Promise<void>((resolve) => origins.B.server.listen(bPort, '127.0.0.1', resolve));
    origins.B.port = bPort;
    await until(async () => (await status()).bind === 1, 'the origin to be healthy again');
    assert.deepEqual((await status()).rs, { [origins.A.port]: 0, [bPort]: 0 });
    assert.deepEqual(tally(await l.names(6)), { A: 3, B: 3 });
    const statuses = await gaap.DescribeRealServerStatistics({ RealServerId: rsId, ListenerId: l.listenerId, WithinTime: 1 });
    assert.ok(statuses.StatisticsData.some((p: any) => p.Data === 0), 'the unhealthy minute is in the health series');
  });

  it('failover: slaves carry traffic only while no master is healthy', async () => {
    const l = await listener({ Scheduler: 'rr', HealthCheck: 1, DelayLoop: 5, ConnectTimeout: 2, HealthyThreshold: 1, UnhealthyThreshold: 1, FailoverSwitch: 1 }, [
      { name: 'A', role: 'master' },
      { name: 'C', role: 'slave' },
    ]);
    assert.deepEqual(tally(await l.names(4)), { A: 4 });
    const aPort = origins.A.port;
    await origins.A.close();
    await until(async () => (await whoAnswers(l.ip, l.port)) === 'C', 'the slave to take over');
    assert.deepEqual(tally(await l.names(4)), { C: 4 });
    origins.A = await tcpOrigin('A');
    await new Promise<void>((resolve) => origins.A.server.close(() => resolve()));
    await new Promise<void>((resolve) => origins.A.server.listen(aPort, '127.0.0.1', resolve));
    origins.A.port = aPort;
    await until(async () => (await whoAnswers(l.ip, l.port)) === 'A', 'the master to be back');
    assert.deepEqual(tally(await l.names(4)), { A: 4 });
  });

  it('SessionPersist keeps a client on its origin for the configured time', async () => {
    const l = await listener({ Scheduler: 'rr' }, [{ name: 'A' }, { name: 'B' }]);
    assert.deepEqual(tally(await l.names(4)), { A: 2, B: 2 });
    // No action sets SessionPersist (an output field only): it is set in the stored state.
    await server.store.transaction(DEFAULT_ACCOUNT.uin, async (tx) => {
      const rec = await tx.get<Record<string, unknown>>('gaap.listener', l.listenerId);
      await tx.put({ ...rec!, data: { ...rec!.data, SessionPersist: 60 } });
    });
    await until(async () => {
      const seq = await l.names(6);
      return new Set(seq).size === 1;
    }, 'affinity to the first origin');
  });

  it('SessionPersist ends once the client has been away for the configured time', async () => {
    const l = await listener({ Scheduler: 'rr' }, [{ name: 'A' }, { name: 'B' }]);
    await server.store.transaction(DEFAULT_ACCOUNT.uin, async (tx) => {
      const rec = await tx.get<Record<string, unknown>>('gaap.listener', l.listenerId);
      await tx.put({ ...rec!, data: { ...rec!.data, SessionPersist: 1 } });
    });
    const kept = await until(async () => {
      const seq = await l.names(4);
      return new Set(seq).size === 1 && seq[0];
    }, 'affinity to one origin');
    // Within the time the client keeps its origin; after a second away, round robin chooses again, and the next in turn is the other origin.
    await new Promise((r) => setTimeout(r, 1500));
    const next = await l.names(3);
    assert.notEqual(next[0], kept, next.join(','));
    assert.equal(new Set(next).size, 1, 'the new choice is kept in turn');
  });
});
