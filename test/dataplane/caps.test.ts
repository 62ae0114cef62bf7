import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { cnClient, DEFAULT_ACCOUNT, startTclocal } from '../helpers';
import { forwardingListener, localRealServer, startPlane, stopPlane } from '../support/running-proxy';
import { boundListener, exchange, tcpOrigin, until, whoAnswers, type Origin } from './fixtures';

describe('data plane: Bandwidth and Concurrent caps', () => {
  let server: RunningServer;
  let gaap: any;
  let origin: Origin;
  let rsId: string;

  before(async () => {
    ({ server, gaap, origins: { O: origin }, rsId } = await startPlane({}, tcpOrigin, ['O']));
  });
  after(() => stopPlane({ server, origins: { origin } }));

  async function listener() {
    const { proxyId, listenerId, ip, port } = await forwardingListener(server, gaap, { rsId, name: 'caps', origins: [{ port: origin.port }] });
    await until(async () => (await whoAnswers(ip, port)) === 'O', 'the listener');
    return { proxyId, listenerId, ip, port };
  }

  it('Bandwidth (Mbps per direction) paces a transfer', async () => {
    const { ip, port } = await listener();
    // 10 Mbps = 1.25 MB/s: 3 MB cannot pass in less than about 2.35 s (one 64 KiB burst aside).
    const size = 3_000_000;
    const started = Date.now();
    const answer = await exchange(ip, port, Buffer.alloc(size, 2));
    const seconds = (Date.now() - started) / 1000;
    assert.equal(answer.length, size + 2);
    assert.ok(seconds >= 2.2, `3 MB took ${seconds} s at 10 Mbps`);
    // The echo comes back while the upload goes on: each direction has its own 10 Mbps (one shared by both would take about 4.8 s).
    assert.ok(seconds < 4, `3 MB each way took ${seconds} s: the directions do not share the cap`);
  });

  it("Bandwidth is shared by the proxy's connections", async () => {
    const { ip, port } = await listener();
    // Two connections of 1.5 MB each at once: 3 MB through one 10 Mbps, about 2.35 s (a cap per connection would let them pass in about 1.2 s).
    const size = 1_500_000;
    const started = Date.now();
    const answers = await Promise.all([exchange(ip, port, Buffer.alloc(size, 3)), exchange(ip, port, Buffer.alloc(size, 4))]);
    const seconds = (Date.now() - started) / 1000;
    assert.deepEqual(answers.map((a) => a.length), [size + 2, size + 2]);
    assert.ok(seconds >= 2.2, `two connections of 1.5 MB took ${seconds} s at 10 Mbps`);
  });

  it('Concurrent caps the simultaneous connections of the proxy', async () => {
    const { proxyId, listenerId, ip, port } = await listener();
    // The smallest Concurrent the API takes is 20,000 connections: the stored value is lowered to 2 connections to measure the cap.
    await server.store.transaction(DEFAULT_ACCOUNT.uin, async (tx) => {
      const rec = await tx.get<Record<string, unknown>>('gaap.proxy', proxyId);
      await tx.put({ ...rec!, data: { ...rec!.data, Concurrent: 0.0002 } });
    });
    await until(async () => {
      const held: Socket[] = [];
      try {
        for (let i = 0; i < 2; i++) {
          const s = connect({ host: ip, port });
          held.push(s);
          await new Promise((resolve) => s.once('data', resolve));
        }
        return (await whoAnswers(ip, port)) === 'REFUSED';
      } finally {
        for (const s of held) s.destroy();
      }
    }, 'a third connection to be refused');
    await until(async () => (await boundListener(server, proxyId, listenerId))?.connections === 0, 'the held connections to end');
    assert.equal(await whoAnswers(ip, port), 'O');
  });

  it('with the caps off, neither applies', async () => {
    const uncapped = await startTclocal({ dataplaneCaps: false });
    try {
      const c = cnClient('gaap', uncapped);
      const { proxyId, ip, port } = await forwardingListener(uncapped, c, { rsId: await localRealServer(c), name: 'free', origins: [{ port: origin.port }] });
      await uncapped.store.transaction(DEFAULT_ACCOUNT.uin, async (tx) => {
        const rec = await tx.get<Record<string, unknown>>('gaap.proxy', proxyId);
        await tx.put({ ...rec!, data: { ...rec!.data, Concurrent: 0.0001 } });
      });
      await until(async () => (await whoAnswers(ip, port)) === 'O', 'the listener');
      const held = connect({ host: ip, port });
      await new Promise((resolve) => held.once('data', resolve));
      assert.equal(await whoAnswers(ip, port), 'O', 'a second connection passes a cap of one');
      held.destroy();
      // 3 MB at loopback speed: far faster than the 2.35 s that 10 Mbps would take.
      const started = Date.now();
      await exchange(ip, port, Buffer.alloc(3_000_000, 2));
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    } finally {
      await uncapped.stop();
    }
  });
});
