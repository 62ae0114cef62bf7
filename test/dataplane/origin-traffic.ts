/**
 * Traffic counted per origin: a TCP and a UDP listener with two real servers
 * (on 127.0.0.1 and 127.0.0.2), known bytes through them, and the
 * figures read back from the series the data plane writes for each real
 * server of the listener. Run against a server that forwards in its main
 * process and against one with forwarder processes.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { RunningServer } from '../../src/server';
import { readSlots } from '../../src/services/gaap/stats/model';
import { DEFAULT_ACCOUNT } from '../helpers';
import { l4Listener, runningProxy, servedPort } from '../support/running-proxy';
import { exchange, tcpOrigin, udpAsk, udpOrigin, until } from './fixtures';

/** Bytes each way through one real server of a listener, from its stored traffic series (bit/s averaged over each minute). */
async function originBytes(server: RunningServer, realServerId: string, listenerId: string): Promise<{ in: number; out: number }> {
  const now = Math.floor(Date.now() / 1000);
  return server.store.transaction(DEFAULT_ACCOUNT.uin, async (tx) => {
    const bytes = async (metric: string) => {
      const slots = await readSlots(tx, 'realServer', `${realServerId}@${listenerId}`, metric, now - 600, now + 60);
      return Math.round(([...slots.values()].reduce((a, b) => a + b, 0) * 60) / 8);
    };
    return { in: await bytes('InBandwidth'), out: await bytes('OutBandwidth') };
  });
}

/** One listener of `protocol` with both real servers bound: sends (a connection or a session each) until both were reached, then waits until each series holds exactly its own bytes. */
async function perOriginOn(
  server: RunningServer, gaap: any, proxy: { proxyId: string; ip: string }, protocol: 'TCP' | 'UDP',
  origins: Array<{ id: string; ip: string; port: number }>,
  /** Sends one payload of `size` bytes and answers the reply (`<origin name>:<payload>`), or '' when none came. */
  send: (ip: string, port: number, size: number) => Promise<string>,
): Promise<Record<string, { in: number; out: number }>> {
  const { listenerId, port } = await l4Listener(gaap, proxy.proxyId, protocol);
  await gaap.BindListenerRealServers({
    ListenerId: listenerId,
    RealServerBindSet: origins.map((o) => ({ RealServerId: o.id, RealServerIP: o.ip, RealServerPort: o.port })),
  });
  await servedPort(server, proxy.proxyId, listenerId, 2);
  const expected: Record<string, { in: number; out: number }> = { NEAR: { in: 0, out: 0 }, FAR: { in: 0, out: 0 } };
  await until(async () => {
    // Each sends a different size; its origin answers with its name and the bytes back.
    const size = protocol === 'TCP' ? 1000 + Math.floor(Math.random() * 5000) : 100 + Math.floor(Math.random() * 900);
    const answer = await send(proxy.ip, port, size);
    const e = expected[answer.split(':')[0]];
    if (e) {
      e.in += size;
      e.out += answer.length;
    }
    return expected.NEAR.in > 0 && expected.FAR.in > 0;
  }, `${protocol} traffic to reach both origins`);
  const [near, far] = origins;
  await until(async () => {
    const got = { NEAR: await originBytes(server, near.id, listenerId), FAR: await originBytes(server, far.id, listenerId) };
    return JSON.stringify(got) === JSON.stringify(expected);
  }, `each real server's ${protocol} series to hold its own bytes (${JSON.stringify(expected)})`);
  return expected;
}

/** `nearId`: the server's real server 127.0.0.1 (a real server's address is unique in an account). */
export async function countsTrafficPerOrigin(server: RunningServer, gaap: any, nearId: string): Promise<void> {
  const near = await tcpOrigin('NEAR');
  const far = await tcpOrigin('FAR', { host: '127.0.0.2' });
  const udpNear = await udpOrigin('NEAR');
  const udpFar = await udpOrigin('FAR', { host: '127.0.0.2' });
  const clients: UdpSocket[] = [];
  try {
    const farId = (await gaap.AddRealServers({ RealServerIP: ['127.0.0.2'], RealServerName: 'per-origin', ProjectId: 0 })).RealServerSet[0].RealServerId as string;
    const proxy = await runningProxy(gaap, 'per-origin');
    const tcp = await perOriginOn(server, gaap, proxy, 'TCP', [
      { id: nearId, ip: '127.0.0.1', port: near.port },
      { id: farId, ip: '127.0.0.2', port: far.port },
    ], (ip, port, size) => exchange(ip, port, Buffer.alloc(size, 'p')).catch(() => ''));
    assert.notDeepEqual(tcp.NEAR, tcp.FAR);
    // UDP: a session per client socket, its datagrams and the replies counted for the origin it went to.
    await perOriginOn(server, gaap, proxy, 'UDP', [
      { id: nearId, ip: '127.0.0.1', port: udpNear.port },
      { id: farId, ip: '127.0.0.2', port: udpFar.port },
    ], async (ip, port, size) => {
      const c = createSocket('udp4');
      clients.push(c);
      await new Promise<void>((resolve) => c.bind(0, '127.0.0.1', resolve));
      return (await udpAsk(c, ip, port, 'd'.repeat(size))) ?? '';
    });
  } finally {
    for (const c of clients) c.close();
    await near.close();
    await far.close();
    await udpNear.close();
    await udpFar.close();
  }
}
