/**
 * A UDP DNS load generator in Node, for machines without dnsperf: keeps
 * `outstanding` queries in flight from one socket, cycling through the
 * names, and counts answers for `seconds`. Being JavaScript on the same
 * cores, it takes CPU from the servers it measures, alike for both.
 */
import { createSocket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';

export async function udpLoad(port: number, names: string[], seconds: number, outstanding: number): Promise<{ qps: number; ok: number }> {
  const queries = names.map((name) => dnsPacket.encode({ id: 0, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A' }] }));
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  let next = 0;
  let answered = 0;
  let ok = 0;
  let running = true;
  const send = () => {
    const q = Buffer.from(queries[next % queries.length]);
    q.writeUInt16BE(next & 0xffff, 0);
    next++;
    socket.send(q, port, '127.0.0.1');
  };
  socket.on('message', (m) => {
    answered++;
    if ((m[3] & 0x0f) === 0) ok++;
    if (running) send();
  });
  const start = performance.now();
  for (let i = 0; i < outstanding; i++) send();
  // Lost datagrams would shrink the window: top it up every 100 ms.
  const topUp = setInterval(() => {
    for (let i = next - answered; i < outstanding; i++) send();
  }, 100);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  running = false;
  clearInterval(topUp);
  const elapsed = (performance.now() - start) / 1000;
  socket.close();
  return { qps: answered / elapsed, ok: answered ? ok / answered : 0 };
}
