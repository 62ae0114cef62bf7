import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import dns from 'node:dns';
import { describe, it } from 'node:test';
import { listenerUdpSocket } from '../../src/dataplane/udp';

const bound = (s: UdpSocket, address: string) => new Promise<number>((resolve, reject) => {
  s.once('error', reject);
  s.bind(0, address, () => resolve(s.address().port));
});

describe('data plane: a UDP listener socket', () => {
  it('sends a reply to an address literal without asking the resolver, and still resolves a name', async () => {
    const receiver = createSocket('udp4');
    const original = dns.lookup;
    let asked = 0;
    // A socket made without a lookup of its own resolves through dns.lookup as it is when the socket is made: count what reaches it.
    (dns as { lookup: unknown }).lookup = (...args: unknown[]) => {
      asked++;
      return (original as (...a: unknown[]) => unknown)(...args);
    };
    const listener = listenerUdpSocket('udp4');
    const plain = createSocket('udp4');
    try {
      const port = await bound(receiver, '127.0.0.1');
      await bound(listener, 'localhost');
      assert.equal(listener.address().address, '127.0.0.1', 'a name is still resolved');
      await bound(plain, '127.0.0.1');
      const got: string[] = [];
      const two = new Promise<void>((resolve) => receiver.on('message', (m) => got.push(m.toString()) === 2 && resolve()));
      asked = 0;
      listener.send('from-listener', port, '127.0.0.1');
      assert.equal(asked, 0, 'the listener asked the resolver for a literal');
      plain.send('from-plain', port, '127.0.0.1');
      assert.equal(asked, 1, 'a plain socket asks it (the reason for the listener socket)');
      await two;
      assert.deepEqual(got.sort(), ['from-listener', 'from-plain']);
    } finally {
      (dns as { lookup: unknown }).lookup = original;
      for (const s of [receiver, listener, plain]) s.close();
    }
  });
});
