import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket, Socket as DgramSocket } from 'node:dgram';
import { connect, createServer, Socket, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { cnClient, startTclocal } from '../helpers';
import { bindOrigins, l4Listener, localRealServer, runningProxy } from '../support/running-proxy';
import { dataplaneReport, tcpOrigin, udpAsk, udpOrigin, until, whoAnswers, type Origin, type UdpOrigin } from './fixtures';

/** Sockets open in this process (the server runs in it too): a leak shows here. `ignore` says which are not the data plane's. */
const socketsOpen = (ignore: (s: Socket) => boolean) =>
  (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h) => h instanceof Socket && !ignore(h)).length;
/** UDP sockets open in this process: each UDP session's socket towards its origin among them. */
const udpSocketsOpen = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h) => h instanceof DgramSocket).length;

async function listenOn(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe('data plane: bad input and faults', () => {
  let server: RunningServer;
  let gaap: any;
  let good: Origin;
  let udp: UdpOrigin;
  let hanging: Server;
  let resetting: Server;
  const hangingSockets = new Set<Socket>();
  let rsId: string;

  before(async () => {
    // Caps off: the storm's datagrams would otherwise spend the proxy's bandwidth and the fresh
    // client's datagram be policed away, depending on how fast the machine sends them.
    server = await startTclocal({ dataplaneTcpIdleMs: 400, dataplaneUdpIdleMs: 200, dataplaneCaps: false });
    gaap = cnClient('gaap', server);
    good = await tcpOrigin('G');
    udp = await udpOrigin('U');
    // Accepts and never reads nor answers.
    hanging = createServer((s) => {
      hangingSockets.add(s);
      s.pause();
      s.on('error', () => undefined);
      s.on('close', () => hangingSockets.delete(s));
    });
    // Accepts and resets at once.
    resetting = createServer((s) => s.resetAndDestroy());
    rsId = await localRealServer(gaap);
  });
  after(async () => {
    await server.stop();
    await good.close();
    await udp.close();
    for (const s of hangingSockets) s.destroy();
    hanging.close();
    resetting.close();
  });

  it('garbage, resets, half-open and silent clients, refusing/hanging/resetting origins, datagrams of any size: nothing leaks, other listeners and the API go on', async () => {
    const { proxyId, ip } = await runningProxy(gaap, 'faults');
    // A port nothing listens on any more: the origin refuses.
    const closing = createServer();
    const deadPort = await listenOn(closing);
    await new Promise<void>((resolve) => closing.close(() => resolve()));
    const origins = { good: good.port, refusing: deadPort, hanging: await listenOn(hanging), resetting: await listenOn(resetting) };
    const ports: Record<string, number> = {};
    for (const [name, originPort] of Object.entries(origins)) {
      const { listenerId, port } = await l4Listener(gaap, proxyId, 'TCP', { ListenerName: name });
      await bindOrigins(gaap, rsId, listenerId, [{ port: originPort }]);
      ports[name] = port;
    }
    const { listenerId: udpListener, port: udpPort } = await l4Listener(gaap, proxyId, 'UDP', { ListenerName: 'u' });
    await bindOrigins(gaap, rsId, udpListener, [{ port: udp.port }]);
    await until(async () => (await whoAnswers(ip, ports.good)) === 'G', 'the good listener');
    // The API's keep-alive connections, and the hanging origin's sockets (it never reads, so never sees its peer go), are not the data plane's.
    const notOurs = (s: Socket) => hangingSockets.has(s) || s.localPort === server.port || s.remotePort === server.port;
    const openSockets = () => socketsOpen(notOurs);
    const baseline = openSockets();
    const udpBaseline = udpSocketsOpen();

    const clients: Socket[] = [];
    const open = (port: number) => {
      const s = connect({ host: ip, port });
      s.on('error', () => undefined);
      clients.push(s);
      return s;
    };
    for (const port of Object.values(ports)) {
      for (let i = 0; i < 5; i++) open(port).end(randomBytes(1 + i * 5000)); // garbage, then half-close, never reading
      for (let i = 0; i < 5; i++) open(port); // connects and stays silent
      for (let i = 0; i < 5; i++) {
        const s = open(port);
        s.on('connect', () => {
          s.write(randomBytes(100));
          s.resetAndDestroy();
        });
      }
    }
    const dgram = createSocket('udp4');
    await new Promise<void>((resolve) => dgram.bind(0, '127.0.0.1', resolve));
    for (const size of [0, 1, 512, 1472, 9000, 65507]) dgram.send(Buffer.alloc(size, 1), udpPort, ip);
    const spray = createSocket('udp4');
    for (let i = 0; i < 30; i++) spray.send(randomBytes(i * 100), udpPort, ip);

    // Meanwhile the good listener and the API answer.
    assert.equal(await whoAnswers(ip, ports.good), 'G');
    assert.ok(await gaap.DescribeProxies({ ProxyIds: [proxyId] }));
    // A fresh client: the storm's own replies may still be arriving at the others.
    const asker = createSocket('udp4');
    await new Promise<void>((resolve) => asker.bind(0, '127.0.0.1', resolve));
    assert.equal(await udpAsk(asker, ip, udpPort, 'still?'), 'U:still?');
    asker.close();

    // The silent and half-open ones are closed by the idle timeout; every socket on both sides is gone.
    await until(async () => {
      const report = await dataplaneReport(server);
      const mine = report.accounts.flatMap((a: any) => a.proxies).find((p: any) => p.proxyId === proxyId);
      return mine.connections === 0 && mine.listeners.every((l: any) => l.connections === 0);
    }, 'every connection and session to end', 15_000);
    for (const c of clients) c.destroy();
    dgram.close();
    spray.close();
    await until(() => openSockets() <= baseline, `open sockets back to ${baseline} (now ${openSockets()})`, 15_000);
    await until(() => udpSocketsOpen() <= udpBaseline, `UDP sockets back to ${udpBaseline} (now ${udpSocketsOpen()})`, 15_000);
    assert.equal(await whoAnswers(ip, ports.good), 'G');
  });
});
