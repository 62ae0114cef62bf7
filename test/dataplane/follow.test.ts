import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { cnClient, startTclocal } from '../helpers';
import { boundListener, dataplaneReport, until } from './fixtures';

interface ReconcileCounts {
  passes: number;
  listenersApplied: number;
  wholeReads: number;
  changeReads: number;
  recordsRead: number;
}

describe('data plane: following the commits costs what they changed, not what the account holds', () => {
  let server: RunningServer;
  let gaap: any;

  before(async () => {
    // Rate limits off: the account is filled faster than CreateProxy's documented 20 calls a second.
    server = await startTclocal({ rateLimits: false });
    gaap = cnClient('gaap', server);
  });
  after(() => server.stop());

  const counts = async (): Promise<ReconcileCounts> => (await dataplaneReport(server)).reconcile;
  const createProxy = async (): Promise<string> =>
    (await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'f', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 })).InstanceId;
  const createListeners = async (proxyId: string, ports: number[]): Promise<string[]> =>
    (await gaap.CreateTCPListeners({ ListenerName: 'l', Ports: ports, Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP', ProxyId: proxyId })).ListenerIds;

  /** What one new proxy with one listener cost the data plane, from the first call until the listener is bound. */
  async function costOfOne(): Promise<{ recordsRead: number; listenersApplied: number; wholeReads: number }> {
    const before = await counts();
    const proxyId = await createProxy();
    const [listenerId] = await createListeners(proxyId, [7000]);
    await until(async () => (await boundListener(server, proxyId, listenerId))?.bound, 'the new listener bound');
    const now = await counts();
    return {
      recordsRead: now.recordsRead - before.recordsRead,
      listenersApplied: now.listenersApplied - before.listenersApplied,
      wholeReads: now.wholeReads - before.wholeReads,
    };
  }

  it('reads back and applies only the records a create wrote, with 1 or 200 listeners in the account', async () => {
    // The account's first commit has it read whole (it held nothing when the server started).
    assert.equal((await costOfOne()).wholeReads, 1);
    const small = await costOfOne();
    // Grow the account: 40 proxies with 5 listeners each.
    const proxies = await Promise.all(Array.from({ length: 40 }, createProxy));
    await Promise.all(proxies.map((p) => createListeners(p, [8000, 8001, 8002, 8003, 8004])));
    await until(async () => {
      const report = await dataplaneReport(server);
      const bound = report.accounts.flatMap((a: any) => a.proxies.flatMap((p: any) => p.listeners)).filter((l: any) => l.bound).length;
      return bound >= 202;
    }, 'every listener bound');
    const large = await costOfOne();

    // The proxy's and the listener's records, read again after each of the few commits that wrote them.
    for (const cost of [small, large]) {
      assert.equal(cost.wholeReads, 0, 'no commit reads the account whole');
      assert.ok(cost.recordsRead <= 8, `records read for one proxy and one listener: ${cost.recordsRead}`);
      assert.ok(cost.listenersApplied <= 4, `listeners applied for one new listener: ${cost.listenersApplied}`);
    }
    assert.ok(large.recordsRead <= small.recordsRead + 2, `reads grew with the account: ${small.recordsRead} → ${large.recordsRead}`);
    assert.ok(large.listenersApplied <= small.listenersApplied + 2, `listeners applied grew with the account: ${small.listenersApplied} → ${large.listenersApplied}`);
    const total = await counts();
    assert.equal(total.wholeReads, 1, 'the account was read whole once, at its first commit');
  });

  it('a change to a group reaches every listener of the group, and only them', async () => {
    // A proxy joining a group: the group's listeners take the new member, other listeners are untouched.
    const { GroupId: groupId } = await gaap.CreateProxyGroup({
      ProjectId: 0, GroupName: 'g', RealServerRegion: 'Beijing', AccessRegionSet: [{ AccessRegion: 'Hongkong', Bandwidth: 10, Concurrent: 2 }],
    });
    const [member] = (await gaap.DescribeProxies({ Filters: [{ Name: 'GroupId', Values: [groupId] }] })).ProxySet.map((p: any) => p.ProxyId);
    const { ListenerIds } = await gaap.CreateTCPListeners({ ListenerName: 'gl', Ports: [9000, 9001], Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP', GroupId: groupId, RealServerPorts: [9100, 9101] });
    await until(async () => (await boundListener(server, member, ListenerIds[1]))?.bound, 'the group listener bound on the first member');
    const before = await counts();
    const second = (await gaap.CreateProxy({ ProjectId: 0, GroupId: groupId, ProxyName: 'm2', AccessRegion: 'Japan', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 })).InstanceId;
    for (const id of ListenerIds) await until(async () => (await boundListener(server, second, id))?.bound, 'the group listener bound on the new member');
    const now = await counts();
    // The new member's commits re-apply the group's two listeners a few times at most, not the account's 200.
    assert.ok(now.listenersApplied - before.listenersApplied <= 8, `listeners applied: ${now.listenersApplied - before.listenersApplied}`);
    assert.equal(now.wholeReads, before.wholeReads);
  });
});
