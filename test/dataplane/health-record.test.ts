import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { cnClient, randomPool, startTclocal } from '../helpers';
import { bindOrigins, forwardingListener, startPlane, stopPlane } from '../support/running-proxy';
import { tcpOrigin, until, whoAnswers, type Origin } from './fixtures';

/**
 * The statuses the API reports follow live health also when no probe result
 * changes: after an action rewrites them, after checks are turned off, and
 * after a restart.
 */
describe('data plane: the recorded origin statuses follow live health', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tclocal-health-'));
  const pool = randomPool();
  // Health checks every 5 s × 0.02 = 100 ms; the tests poll the describe actions faster than their documented rate limits.
  const settings = { inMemory: false, dataDir, dataplanePool: pool, dataplaneCheckScale: 0.02, dataplaneFlushMs: 100, rateLimits: false } as const;
  let server: RunningServer;
  let gaap: any;
  let origins: Record<string, Origin>;
  let rsId: string;

  before(async () => {
    ({ server, gaap, origins, rsId } = await startPlane(settings, tcpOrigin, ['A', 'B']));
  });
  after(async () => {
    await stopPlane({ server, origins });
    rmSync(dataDir, { recursive: true, force: true });
  });

  const checks = { Scheduler: 'rr', HealthCheck: 1, DelayLoop: 5, ConnectTimeout: 2, HealthyThreshold: 2, UnhealthyThreshold: 2 };

  async function status(listenerId: string) {
    const d = (await gaap.DescribeTCPListeners({ ListenerId: listenerId })).ListenerSet[0];
    const rs = (await gaap.DescribeListenerRealServers({ ListenerId: listenerId })).BindRealServerSet;
    return { bind: d.BindStatus, rs: Object.fromEntries(rs.map((r: any) => [r.RealServerPort, r.RealServerStatus])) };
  }

  /** Listens again on the port a closed origin had. */
  async function revive(name: string, port: number): Promise<void> {
    origins[name] = await tcpOrigin(name);
    await new Promise<void>((resolve) => origins[name].server.close(() => resolve()));
    await new Promise<void>((resolve) => origins[name].server.listen(port, '127.0.0.1', resolve));
    origins[name].port = port;
  }

  it('binding the origins again (which records them normal) brings a dead one back to abnormal; turning checks off records every origin normal', async () => {
    const a = origins.A.port;
    const b = origins.B.port;
    const l = await forwardingListener(server, gaap, { rsId, name: 'rebind', settings: checks, origins: [{ port: a }, { port: b }] });
    await origins.B.close();
    await until(async () => (await status(l.listenerId)).bind === 0, 'B to be found abnormal');

    await bindOrigins(gaap, rsId, l.listenerId, [{ port: a }, { port: b }]);
    // The action itself records both normal, as it does on the real cloud for a new binding.
    await until(async () => {
      const s = await status(l.listenerId);
      return s.bind === 0 && s.rs[b] === 1 && s.rs[a] === 0;
    }, 'the record to say again that B is abnormal', 5000);
    assert.equal(await whoAnswers(l.ip, l.port), 'A');

    await gaap.ModifyTCPListenerAttribute({ ProxyId: l.proxyId, ListenerId: l.listenerId, HealthCheck: 0 });
    await until(async () => {
      const s = await status(l.listenerId);
      return s.bind === 1 && s.rs[b] === 0 && s.rs[a] === 0;
    }, 'every origin to be recorded normal without checks', 5000);
    await revive('B', b);
  });

  it('after a restart an origin recorded abnormal that has come back is recorded normal again', async () => {
    const b = origins.B.port;
    const l = await forwardingListener(server, gaap, { rsId, name: 'restart', settings: checks, origins: [{ port: origins.A.port }, { port: b }] });
    await origins.B.close();
    await until(async () => (await status(l.listenerId)).rs[b] === 1, 'B to be found abnormal');
    await server.stop();
    await revive('B', b);
    server = await startTclocal(settings);
    gaap = cnClient('gaap', server);
    await until(async () => {
      const s = await status(l.listenerId);
      return s.bind === 1 && s.rs[b] === 0;
    }, 'B to be recorded normal again', 5000);
  });
});
