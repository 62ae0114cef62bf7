import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config';
import { cnClient, DEFAULT_ACCOUNT, startTclocal } from '../helpers';
import { bindOrigins, l4Listener, localRealServer, runningProxy } from '../support/running-proxy';
import { dataplaneReport, randomPort, tcpOrigin, until, whoAnswers } from './fixtures';

describe('data plane: settings', () => {
  it('the pool must be loopback; every data-plane setting has its TCLOCAL_* twin', () => {
    assert.throws(() => loadConfig({ '--dataplane-pool': '10.0.0.0/8' }, {}), (e: Error) => e instanceof ConfigError && /--dataplane-pool/.test(e.message));
    assert.throws(() => loadConfig({}, { TCLOCAL_DATAPLANE_POOL: '127.1.2.3/40' }), /TCLOCAL_DATAPLANE_POOL/);
    assert.throws(() => loadConfig({}, { TCLOCAL_DATAPLANE_CHECK_SCALE: '0' }), /TCLOCAL_DATAPLANE_CHECK_SCALE/);
    const c = loadConfig({}, {
      TCLOCAL_DATAPLANE: 'off', TCLOCAL_DATAPLANE_POOL: '127.9.9.9', TCLOCAL_DATAPLANE_PORT_OFFSET: '20000', TCLOCAL_DATAPLANE_HOST: '127.0.0.1',
      TCLOCAL_DATAPLANE_CAPS: 'off', TCLOCAL_DATAPLANE_FLUSH_MS: '1000', TCLOCAL_DATAPLANE_CHECK_SCALE: '0.5', TCLOCAL_DATAPLANE_UDP_IDLE_MS: '5000', TCLOCAL_DATAPLANE_TCP_IDLE_MS: '6000',
    });
    assert.deepEqual(
      [c.dataplane, c.dataplanePool, c.dataplanePortOffset, c.dataplaneHost, c.dataplaneCaps, c.dataplaneFlushMs, c.dataplaneCheckScale, c.dataplaneUdpIdleMs, c.dataplaneTcpIdleMs],
      [false, '127.9.9.9/32', 20000, '127.0.0.1', false, 1000, 0.5, 5000, 6000],
    );
  });

  it('on one shared address, a port another proxy already holds is mapped to a free one', async () => {
    const server = await startTclocal({ dataplanePool: '127.0.0.1/32' });
    const origin = await tcpOrigin('O');
    try {
      const gaap = cnClient('gaap', server);
      const rs = await localRealServer(gaap, 'o');
      const port = randomPort();
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const { proxyId, ip } = await runningProxy(gaap, `p${i}`);
        const { listenerId } = await l4Listener(gaap, proxyId, 'TCP', { Ports: [port] });
        await bindOrigins(gaap, rs, listenerId, [{ port: origin.port }]);
        assert.equal(ip, '127.0.0.1');
        ids.push(proxyId);
      }
      const bound = await until(async () => {
        const report = await dataplaneReport(server);
        const listeners = report.accounts.flatMap((a: any) => a.proxies).filter((p: any) => ids.includes(p.proxyId)).flatMap((p: any) => p.listeners);
        return listeners.length === 2 && listeners.every((l: any) => l.bound) ? listeners.map((l: any) => l.bound.port) : undefined;
      }, 'both listeners bound');
      assert.ok(bound.includes(port), `one keeps its port: ${bound}`);
      assert.equal(new Set(bound).size, 2, `the other is mapped: ${bound}`);
      for (const p of bound) assert.equal(await whoAnswers('127.0.0.1', p), 'O');
    } finally {
      await server.stop();
      await origin.close();
    }
  });

  it('with a data-plane host every proxy listens there (ports mapped where taken); without one, a stored address that is not loopback is refused, not bound', async () => {
    const hosted = await startTclocal({ dataplaneHost: '127.0.0.1' });
    const plain = await startTclocal({});
    const origin = await tcpOrigin('O');
    try {
      const gaap = cnClient('gaap', hosted);
      const rs = await localRealServer(gaap, 'o');
      const { proxyId, ip } = await runningProxy(gaap, 'hosted');
      assert.notEqual(ip, '127.0.0.1', 'the API still reports the proxy its own address');
      const { listenerId } = await l4Listener(gaap, proxyId, 'TCP');
      await bindOrigins(gaap, rs, listenerId, [{ port: origin.port }]);
      const bound = await until(async () => {
        const report = await dataplaneReport(hosted);
        return report.accounts.flatMap((a: any) => a.proxies).find((p: any) => p.proxyId === proxyId)?.listeners[0]?.bound;
      }, 'the listener bound on the host');
      assert.equal(bound.address, '127.0.0.1');
      assert.equal(await whoAnswers('127.0.0.1', bound.port), 'O');

      // A proxy whose stored address is not loopback (an import from elsewhere, say): reported, never bound.
      const other = cnClient('gaap', plain);
      const { proxyId: stray } = await runningProxy(other, 'stray');
      await plain.store.transaction(DEFAULT_ACCOUNT.uin, async (tx) => {
        const rec = (await tx.get<Record<string, unknown>>('gaap.proxy', stray))!;
        await tx.put({ ...rec, data: { ...rec.data, IP: '10.9.8.7' } });
      });
      const { listenerId: strayListener } = await l4Listener(other, stray, 'TCP');
      const refused = await until(async () => {
        const report = await dataplaneReport(plain);
        return report.accounts.flatMap((a: any) => a.proxies).find((p: any) => p.proxyId === stray)?.listeners.find((l: any) => l.listenerId === strayListener);
      }, 'the stray listener in the report');
      assert.equal(refused.bound, null);
      assert.match(refused.error, /not a loopback address/);
    } finally {
      await hosted.stop();
      await plain.stop();
      await origin.close();
    }
  });

  it('with the data plane off nothing is bound and the report says so', async () => {
    const server = await startTclocal({ dataplane: false });
    try {
      const gaap = cnClient('gaap', server);
      const { proxyId, ip } = await runningProxy(gaap, 'off');
      const { port } = await l4Listener(gaap, proxyId);
      assert.deepEqual(await dataplaneReport(server), { enabled: false, accounts: [] });
      assert.equal(await whoAnswers(ip, port), 'REFUSED');
    } finally {
      await server.stop();
    }
  });
});
