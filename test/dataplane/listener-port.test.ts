import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { describe, it } from 'node:test';
import type { Logger } from 'pino';
import { bindTcp } from '../../src/dataplane/bound-socket';
import { acceptInstead, bindErrorText, bindListenerPort, isLoopback, type PortRules } from '../../src/dataplane/listener-port';

/** An attempt that fails with `code` on the ports listed, and records every port tried. */
function scripted(failing: Record<number, string>): { tried: number[]; attempt: (port: number) => Promise<number> } {
  const tried: number[] = [];
  return {
    tried,
    attempt: async (port) => {
      tried.push(port);
      const code = failing[port];
      if (code) throw Object.assign(new Error(`listen ${code}`), { code });
      return port === 0 ? 40123 : port;
    },
  };
}

const own: PortRules = { offset: 10000, shared: false, forwarders: false };

describe('data plane: the port a listener ends up on', () => {
  it('a privileged port the process may not bind moves by the offset; an ordinary one does not move', async () => {
    const a = scripted({ 80: 'EACCES' });
    assert.deepEqual(await bindListenerPort(80, own, a.attempt), { port: 10080 });
    const b = scripted({ 8080: 'EACCES' });
    assert.equal(((await bindListenerPort(8080, own, b.attempt)) as { error: Error }).error.message, 'listen EACCES');
    assert.deepEqual(b.tried, [8080]);
  });

  it('a taken port stays an error on an address of its own, and moves to a free port on a shared address', async () => {
    const a = scripted({ 9000: 'EADDRINUSE' });
    assert.ok('error' in (await bindListenerPort(9000, own, a.attempt)));
    assert.deepEqual(a.tried, [9000]);
    const b = scripted({ 9000: 'EADDRINUSE' });
    assert.deepEqual(await bindListenerPort(9000, { ...own, shared: true }, b.attempt), { port: 40123 });
    assert.deepEqual(b.tried, [9000, 0]);
  });

  it('with forwarder processes a taken port is tried again for a while first (they let go of a socket a moment late)', async () => {
    const a = scripted({ 9000: 'EADDRINUSE' });
    assert.ok('error' in (await bindListenerPort(9000, { ...own, forwarders: true }, a.attempt)));
    assert.equal(a.tried.length, 11);
    let left = 2;
    const tried: number[] = [];
    const freedSoon = async (port: number) => {
      tried.push(port);
      if (left-- > 0) throw Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
      return port;
    };
    assert.deepEqual(await bindListenerPort(9000, { ...own, forwarders: true }, freedSoon), { port: 9000 });
    assert.deepEqual(tried, [9000, 9000, 9000]);
  });

  it('other errors end the attempts at once', async () => {
    const a = scripted({ 80: 'EADDRNOTAVAIL' });
    assert.ok('error' in (await bindListenerPort(80, { ...own, shared: true }, a.attempt)));
    assert.deepEqual(a.tried, [80]);
  });
});

describe('data plane: opening a listener socket', () => {
  it('only loopback addresses may be bound without the data-plane host', () => {
    for (const ip of ['127.0.0.1', '127.77.3.9', '::1']) assert.equal(isLoopback(ip), true, ip);
    for (const ip of ['0.0.0.0', '10.0.0.1', '::', '::ffff:127.0.0.1', 'localhost', '']) assert.equal(isLoopback(ip), false, ip);
  });

  it('a bind failure reads as its code and message, or a plain phrase when nothing was tried', () => {
    assert.equal(bindErrorText(Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:80'), { code: 'EADDRINUSE' })), 'EADDRINUSE: listen EADDRINUSE: address already in use 127.0.0.1:80');
    assert.equal(bindErrorText(undefined), 'error: cannot bind');
  });

  it('a handed socket no forwarder took up: this process accepts on it, says so in the log, and lets go of it if it cannot', async () => {
    const warned: unknown[] = [];
    const log = { warn: (o: unknown) => warned.push(o) } as unknown as Logger;
    const bound = bindTcp('127.0.0.1', 0)!;
    const server = createServer((s) => s.end('here'));
    let released = 0;
    const port = await acceptInstead(log, 'lsr-1', server, bound, () => released++);
    assert.equal(port, bound.port);
    const answer = await new Promise<string>((resolve) => {
      let got = '';
      connect(port, '127.0.0.1').on('data', (d) => (got += d)).on('close', () => resolve(got));
    });
    assert.equal(answer, 'here');
    assert.deepEqual(warned, [{ listenerId: 'lsr-1', port }]);
    assert.equal(released, 0);
    await new Promise<void>((r) => server.close(() => r()));
    // A socket that cannot be listened on (here, closed meanwhile): it is let go of and the error thrown.
    const gone = bindTcp('127.0.0.1', 0)!;
    gone.close();
    await assert.rejects(acceptInstead(log, 'lsr-2', createServer(), gone, () => released++), { code: 'EINVAL' });
    assert.equal(released, 1);
  });
});
