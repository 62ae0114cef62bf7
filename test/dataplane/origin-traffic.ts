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

/** `nearId`: the server's real server 127.0.0.1 (a real server's address is unique in an account). */
export async function countsTrafficPerOrigin(server: RunningServer, gaap: any, nearId: string): Promise<void> {
  const near = await tcpOrigin('NEAR');
  const far = await tcpOrigin('FAR', { host: '127.0.0.2' });
  const udpNear = await udpOrigin('NEAR');
  const udpFar = await udpOrigin('FAR', { host: '127.0.0.2' });
  const clients: UdpSocket[] = [];
  try {
    const farId = (await gaap.AddRealServers({ RealServerIP: ['127.0.0.2'], RealServerName: 'per-origin', ProjectId: 0 })).RealServerSet[0].RealServerId as string;
    const { proxyId, ip } = await runningProxy(gaap, 'per-origin');
    const { listenerId, port } = await l4Listener(gaap, proxyId, 'TCP');
    await gaap.BindListenerRealServers({
      ListenerId: listenerId,
      RealServerBindSet: [
        { RealServerId: nearId, RealServerIP: '127.0.0.1', RealServerPort: near.port },
        { RealServerId: farId, RealServerIP: '127.0.0.2', RealServerPort: far.port },
      ],
    });
    await servedPort(server, proxyId, listenerId, 2);
    const expected: Record<string, { in: number; out: number }> = { NEAR: { in: 0, out: 0 }, FAR: { in: 0, out: 0 } };
    await until(async () => {
      // Each connection sends a different size; its origin answers with its name and the bytes back.
      const payload = Buffer.alloc(1000 + Math.floor(Math.random() * 5000), 'p');
      const answer = await exchange(ip, port, payload).catch(() => '');
      const e = expected[answer.split(':')[0]];
      if (e) {
        e.in += payload.length;
        e.out += answer.length;
      }
      return expected.NEAR.in > 0 && expected.FAR.in > 0;
    }, 'connections to reach both origins');
    await until(async () => {
      const got = { NEAR: await originBytes(server, nearId, listenerId), FAR: await originBytes(server, farId, listenerId) };
      return JSON.stringify(got) === JSON.stringify(expected);
    }, `each real server's series to hold its own bytes (${JSON.stringify(expected)})`);
    assert.notDeepEqual(expected.NEAR, expected.FAR);

    // UDP: a session per client socket, its datagrams and the replies counted for the origin it went to.
    const { listenerId: udpId, port: udpPort } = await l4Listener(gaap, proxyId, 'UDP');
    await gaap.BindListenerRealServers({
      ListenerId: udpId,
      RealServerBindSet: [
        { RealServerId: nearId, RealServerIP: '127.0.0.1', RealServerPort: udpNear.port },
        { RealServerId: farId, RealServerIP: '127.0.0.2', RealServerPort: udpFar.port },
      ],
    });
    await servedPort(server, proxyId, udpId, 2);
    const udpExpected: Record<string, { in: number; out: number }> = { NEAR: { in: 0, out: 0 }, FAR: { in: 0, out: 0 } };
    await until(async () => {
      const c = createSocket('udp4');
      clients.push(c);
      await new Promise<void>((resolve) => c.bind(0, '127.0.0.1', resolve));
      const text = 'd'.repeat(100 + Math.floor(Math.random() * 900));
      const reply = await udpAsk(c, ip, udpPort, text);
      const e = reply && udpExpected[reply.split(':')[0]];
      if (e) {
        e.in += text.length;
        e.out += reply.length;
      }
      return udpExpected.NEAR.in > 0 && udpExpected.FAR.in > 0;
    }, 'sessions to reach both UDP origins');
    await until(async () => {
      const got = { NEAR: await originBytes(server, nearId, udpId), FAR: await originBytes(server, farId, udpId) };
      return JSON.stringify(got) === JSON.stringify(udpExpected);
    }, `each UDP origin's series to hold its own bytes (${JSON.stringify(udpExpected)})`);
  } finally {
    for (const c of clients) c.close();
    await near.close();
    await far.close();
    await udpNear.close();
    await udpFar.close();
  }
}
