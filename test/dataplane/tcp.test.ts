import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { DEFAULT_ACCOUNT } from '../helpers';
import { bindOrigins, l4Listener, runningProxy, startPlane, stopPlane, type OriginBinding } from '../support/running-proxy';
import { boundListener, dataplaneReport, exchange, tcpOrigin, until, whoAnswers, type Origin } from './fixtures';

describe('data plane: TCP listeners forward real connections', () => {
  let server: RunningServer;
  let gaap: any;
  let a: Origin;
  let b: Origin;
  let rsId: string;

  before(async () => {
    ({ server, gaap, origins: { A: a, B: b }, rsId } = await startPlane({ dataplaneFlushMs: 100 }, tcpOrigin, ['A', 'B']));
  });
  after(() => stopPlane({ server, origins: { a, b } }));

  async function proxyWithListener(extra: Record<string, unknown> = {}) {
    const { proxyId, ip } = await runningProxy(gaap);
    const { listenerId, port } = await l4Listener(gaap, proxyId, 'TCP', extra);
    return { proxyId, listenerId, port, ip };
  }

  const bind = (listenerId: string, origins: OriginBinding[]) => bindOrigins(gaap, rsId, listenerId, origins);

  it('binds the listener on the proxy address the API reports and forwards both ways with half-close', async () => {
    const { proxyId, listenerId, port, ip } = await proxyWithListener();
    assert.match(ip, /^127\./);
    const l = await boundListener(server, proxyId, listenerId);
    assert.deepEqual(l?.bound, { address: ip, port });
    assert.equal(l?.error, null);
    // No origin bound yet: the connection is refused.
    assert.equal(await whoAnswers(ip, port), 'REFUSED');
    await bind(listenerId, [{ port: a.port }]);
    // The client half-closes after its bytes; the origin's echo still comes back, then the origin's FIN.
    assert.equal(await exchange(ip, port, 'hello through gaap'), 'A:hello through gaap');
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const back = await exchange(ip, port, big);
    assert.equal(back.length, 2 + big.length);
  });

  it('follows the state: a new binding reaches new connections; close stops traffic, open restores it; delete unbinds', async () => {
    const { proxyId, listenerId, port, ip } = await proxyWithListener();
    await bind(listenerId, [{ port: a.port }]);
    // An established connection survives a change of origins.
    const held = connect({ host: ip, port });
    const greeting = await new Promise<string>((resolve) => held.once('data', (d) => resolve(d.toString())));
    assert.equal(greeting, 'A:');
    await bind(listenerId, [{ port: b.port }]);
    await until(async () => (await whoAnswers(ip, port)) === 'B', 'the new origin');
    const echoed = await new Promise<string>((resolve) => {
      held.once('data', (d) => resolve(d.toString()));
      held.write('still here');
    });
    assert.equal(echoed, 'still here');
    held.destroy();

    await gaap.CloseProxies({ ProxyIds: [proxyId] });
    await until(async () => (await whoAnswers(ip, port)) === 'REFUSED', 'CloseProxies to stop traffic');
    assert.equal((await boundListener(server, proxyId, listenerId))?.bound ?? null, null);
    await gaap.OpenProxies({ ProxyIds: [proxyId] });
    await until(async () => (await whoAnswers(ip, port)) === 'B', 'traffic after OpenProxies');

    await gaap.BindListenerRealServers({ ListenerId: listenerId, RealServerBindSet: [] });
    await gaap.DeleteListeners({ ProxyId: proxyId, ListenerIds: [listenerId], Force: 0 });
    await until(async () => (await whoAnswers(ip, port)) === 'REFUSED', 'the deleted listener to stop');
    assert.equal(await boundListener(server, proxyId, listenerId), undefined);
  });

  it('an isolated or banned proxy carries no traffic; it carries it again once running and unbanned', async () => {
    const { proxyId, listenerId, port, ip } = await proxyWithListener();
    await bind(listenerId, [{ port: a.port }]);
    await until(async () => (await whoAnswers(ip, port)) === 'A', 'the listener to forward');
    // No action isolates or bans a proxy (arrears and the operator do): the stored state stands in for them.
    const edit = (change: (rec: { status: string | null; data: Record<string, unknown> }) => void) =>
      server.store.transaction(DEFAULT_ACCOUNT.uin, async (tx) => {
        const rec = (await tx.get<Record<string, unknown>>('gaap.proxy', proxyId))!;
        const copy = { ...rec, data: { ...rec.data } };
        change(copy);
        await tx.put(copy);
      });
    const cases: Array<[string, (rec: { status: string | null; data: Record<string, unknown> }) => void, (rec: { status: string | null; data: Record<string, unknown> }) => void]> = [
      ['isolated', (r) => { r.status = 'ISOLATED'; r.data.Status = 'ISOLATED'; }, (r) => { r.status = 'RUNNING'; r.data.Status = 'RUNNING'; }],
      ['banned', (r) => { r.data.BanStatus = 'BANNED'; }, (r) => { r.data.BanStatus = 'NORMAL'; }],
      ['in the ban blacklist', (r) => { r.data.InBanBlacklist = 1; }, (r) => { r.data.InBanBlacklist = 0; }],
    ];
    for (const [what, stop, restore] of cases) {
      await edit(stop);
      await until(async () => (await whoAnswers(ip, port)) === 'REFUSED', `the ${what} proxy to stop`);
      await edit(restore);
      await until(async () => (await whoAnswers(ip, port)) === 'A', `the proxy no longer ${what} to forward again`);
    }
  });

  it('a port already in use is reported, and the other listeners and the API keep working', async () => {
    const { proxyId, listenerId, port, ip } = await proxyWithListener();
    await bind(listenerId, [{ port: a.port }]);
    await until(async () => (await whoAnswers(ip, port)) === 'A', 'the proxy\'s first listener to forward');
    const squatter = await tcpOrigin('squatter', { host: ip });
    try {
      const { ListenerIds } = await gaap.CreateTCPListeners({ ListenerName: 'busy', Ports: [squatter.port], Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP', ProxyId: proxyId });
      const l = await boundListener(server, proxyId, ListenerIds[0]);
      assert.match(l?.error ?? '', /EADDRINUSE/);
      assert.equal(l?.bound, null);
      const report = await dataplaneReport(server);
      assert.ok(report.accounts.length > 0);
      assert.ok(await gaap.DescribeProxies({ ProxyIds: [proxyId] }));
      // The proxy's other listener still forwards, and a new one on a free port binds and forwards.
      assert.equal(await whoAnswers(ip, port), 'A');
      const next = await l4Listener(gaap, proxyId, 'TCP');
      await bind(next.listenerId, [{ port: b.port }]);
      await until(async () => (await whoAnswers(ip, next.port)) === 'B', 'a listener made after the failed bind to forward');
    } finally {
      await squatter.close();
    }
  });

  it('a reset on either side resets the other (the main process relay)', async () => {
    const ending = (sock: Socket): Promise<string> => new Promise((resolve) => {
      sock.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      sock.on('close', () => resolve('closed'));
    });
    let originEnd: Promise<string> | undefined;
    // Resets on its first bytes when told to, else greets and waits.
    let resetOnData = true;
    const origin = createServer({ allowHalfOpen: true }, (sock) => {
      if (resetOnData) sock.once('data', () => sock.resetAndDestroy());
      else {
        sock.write('ready');
        originEnd = ending(sock);
      }
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    try {
      const { listenerId, port, ip } = await proxyWithListener();
      await bind(listenerId, [{ port: (origin.address() as { port: number }).port }]);
      await until(async () => {
        const c = connect({ host: ip, port });
        c.write('x');
        return (await ending(c)) === 'ECONNRESET';
      }, 'the origin reset to reach the client as a reset');
      resetOnData = false;
      const c = connect({ host: ip, port });
      const end = ending(c);
      await new Promise((resolve) => c.once('data', resolve));
      c.resetAndDestroy();
      await end;
      await until(() => originEnd, 'the origin connection');
      assert.equal(await originEnd, 'ECONNRESET');
    } finally {
      origin.close();
    }
  });

  it('ClientIPMethod 1 sends a PROXY protocol v1 header before the client bytes', async () => {
    const { listenerId, port, ip } = await proxyWithListener({ ClientIPMethod: 1 });
    await bind(listenerId, [{ port: a.port }]);
    const before = a.firstLines.length;
    const answer = await exchange(ip, port, 'payload');
    assert.match(answer, /^A:PROXY TCP4 .*\r\npayload$/);
    await until(() => a.firstLines.length > before, 'the origin to read');
    assert.match(a.firstLines.at(-1)!, new RegExp(`^PROXY TCP4 127\\.0\\.0\\.1 ${ip.replace(/\./g, '\\.')} \\d+ ${port}$`));
  });
});
