/**
 * The forwarders' relay on raw handles (src/dataplane/handle-relay.ts), on
 * real loopback sockets: the same rules as the net.Socket relay of tcp.ts
 * (half-close, resets, backpressure, refusal, PROXY header, idle sweep,
 * byte counts), checked on the module itself because the forwarder
 * processes that use it are another process.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { bindTcp } from '../../src/dataplane/bound-socket';
import { handleRelay, type HandleRelay, type RawTcp } from '../../src/dataplane/handle-relay';
import { OriginSet, type OriginState } from '../../src/dataplane/origins';
import type { ForwardingListener } from '../../src/services/gaap/forwarding';
import { exchange, tcpOrigin, until, type Origin } from './fixtures';

const relay = handleRelay!;

function originState(port: number, address = '127.0.0.1'): OriginState {
  const listener: ForwardingListener = {
    listenerId: 'lsr-test', protocol: 'TCP', port: 0, proxyIds: [], groupId: null, serving: true, scheduler: 'rr', realServerType: 'IP',
    origins: [{ realServerId: 'rs-test', address, port, weight: 1, role: '', recorded: { healthy: true, downIps: [] } }],
    health: { enabled: false, delayLoop: 5, connectTimeout: 2, healthyThreshold: 1, unhealthyThreshold: 1, type: 'CONNECT', checkPort: 0, send: '', expect: '' },
    failover: false, sessionPersist: 0, clientIpMethod: 0, security: null,
  };
  return new OriginSet(listener).states[0];
}

interface Front {
  port: number;
  /** Relays that finished, with what they counted. */
  finished: HandleRelay[];
  open: Set<HandleRelay>;
  close(): void;
}

/** A listening raw handle relaying every client to `target()`, as a forwarder does. */
function front(target: () => OriginState, options: { header?: (client: RawTcp) => string; idleMs?: number } = {}): Front {
  const bound = bindTcp('127.0.0.1', 0)!;
  const f: Front = { port: bound.port, finished: [], open: new Set(), close: () => bound.close() };
  const err = relay.listen(bound.handle as RawTcp, (client) => {
    const r = relay.forward(client, {
      origin: target(),
      header: options.header?.(client),
      connectTimeoutMs: 2000,
      idleMs: options.idleMs ?? 60_000,
      done: (c) => {
        f.open.delete(c as HandleRelay);
        f.finished.push(c as HandleRelay);
      },
    });
    // Finished already when the system refused the origin's address at once.
    if (!r.closed) f.open.add(r);
  });
  assert.equal(err, undefined);
  return f;
}

/** Resolves with how a client socket ended: 'closed' or the error's code. */
const ending = (s: Socket): Promise<string> =>
  new Promise((resolve) => {
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    s.on('close', () => resolve('closed'));
  });

describe('data plane: the relay on raw handles', () => {
  let echo: Origin;
  const servers: Server[] = [];

  before(async () => {
    echo = await tcpOrigin('E');
  });
  after(async () => {
    await echo.close();
    for (const s of servers) s.close();
  });

  async function origin(onSocket: (s: Socket) => void): Promise<number> {
    const s = createServer({ allowHalfOpen: true }, onSocket);
    servers.push(s);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return (s.address() as { port: number }).port;
  }

  it('is available on this runtime (the forwarders use it)', () => {
    assert.ok(handleRelay, 'the tcp_wrap and stream_wrap bindings were found');
  });

  it('relays both ways with half-close, 3 MB each way to a slow reader, and counts every byte once', async () => {
    const f = front(() => originState(echo.port));
    try {
      assert.equal(await exchange('127.0.0.1', f.port, 'hello'), 'E:hello');
      // A client that reads slowly: the relay must stop reading the origin, not buffer without bound. Past its first MiB each end reads
      // into one buffer of its own, so the bytes are random and compared whole: a buffer reused before its write completed would show.
      const big = randomBytes(3 * 1024 * 1024);
      const got = await new Promise<Buffer>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: f.port, allowHalfOpen: true });
        const parts: Buffer[] = [];
        s.on('error', reject);
        s.on('data', (d: Buffer) => {
          parts.push(d);
          s.pause();
          setTimeout(() => s.resume(), 1);
        });
        s.on('end', () => {
          s.end();
          resolve(Buffer.concat(parts));
        });
        s.end(big);
      });
      assert.equal(got.length, 2 + big.length);
      assert.ok(got.subarray(2).equals(big), 'the bytes came back unchanged');
      await until(() => f.finished.length === 2, 'both relays to finish');
      const last = f.finished[1];
      assert.equal(last.client.bytesRead, big.length);
      assert.equal(last.client.bytesWritten, 2 + big.length);
      assert.equal(last.upstream!.bytesWritten, big.length);
      assert.ok(last.client.buffer && last.upstream!.buffer, 'both ends of the bulk stream read into buffers of their own');
    } finally {
      f.close();
    }
  });

  it('an origin that ends first still gets the client bytes sent after its end (half-close from the origin side)', async () => {
    let heard = '';
    const done = new Promise<void>((resolve) => {
      void origin((s) => {
        s.end('bye');
        s.on('data', (d) => (heard += d));
        s.on('end', () => resolve());
      }).then((port) => {
        const f = front(() => originState(port));
        const c = connect({ host: '127.0.0.1', port: f.port, allowHalfOpen: true });
        c.resume();
        c.on('end', () => c.end('late words'));
        c.on('close', () => f.close());
      });
    });
    await done;
    assert.equal(heard, 'late words');
  });

  it('once both peers have ended, the last end gets its FIN from the close, with no shutdown of its own; the origin sees a clean end', async () => {
    let originEnded: Promise<string> = Promise.resolve('');
    const port = await origin((s) => {
      originEnded = new Promise((resolve) => {
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        s.on('end', () => resolve('end'));
      });
      s.resume();
      s.end('answer');
    });
    const f = front(() => originState(port));
    try {
      // The exchange of the benchmark: the origin answers and ends, then the client ends.
      const c = connect({ host: '127.0.0.1', port: f.port, allowHalfOpen: true });
      let got = '';
      c.on('data', (d) => (got += d));
      c.on('end', () => c.end('thanks'));
      assert.equal(await ending(c), 'closed');
      assert.equal(got, 'answer');
      await until(() => f.finished.length === 1, 'the relay to finish');
      assert.equal(await originEnded, 'end');
      const r = f.finished[0];
      assert.equal(r.client.shutdownSent, true, 'the client was sent the origin end as a shutdown (it was still open)');
      assert.equal(r.upstream!.shutdownSent, false, 'the origin end was closed with no shutdown first');
      assert.equal(r.upstream!.bytesWritten, 'thanks'.length);
    } finally {
      f.close();
    }
  });

  it('a reset on either side resets the other', async () => {
    // The origin resets: the client sees ECONNRESET.
    const resetting = await origin((s) => s.once('data', () => s.resetAndDestroy()));
    let f = front(() => originState(resetting));
    try {
      const c = connect({ host: '127.0.0.1', port: f.port });
      c.write('x');
      assert.equal(await ending(c), 'ECONNRESET');
    } finally {
      f.close();
    }
    // The client resets: the origin sees ECONNRESET.
    let originEnd: Promise<string> | undefined;
    const waiting = await origin((s) => {
      s.write('ready');
      originEnd = ending(s);
    });
    f = front(() => originState(waiting));
    try {
      const c = connect({ host: '127.0.0.1', port: f.port });
      await new Promise((resolve) => c.once('data', resolve));
      c.resetAndDestroy();
      await until(() => originEnd, 'the origin connection');
      assert.equal(await originEnd, 'ECONNRESET');
      await until(() => f.finished.length === 1, 'the relay to finish');
    } finally {
      f.close();
    }
  });

  it('an origin that refuses: the client is reset and the relay finishes', async () => {
    const gone = await origin(() => undefined);
    servers.at(-1)!.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const f = front(() => originState(gone));
    try {
      const c = connect({ host: '127.0.0.1', port: f.port });
      assert.equal(await ending(c), 'ECONNRESET');
      await until(() => f.finished.length === 1, 'the relay to finish');
    } finally {
      f.close();
    }
  });

  it('an origin address the system refuses at once (broadcast): the client is reset, the relay finished before forward returned and is not left open', async () => {
    const f = front(() => originState(80, '255.255.255.255'));
    try {
      const c = connect({ host: '127.0.0.1', port: f.port });
      assert.equal(await ending(c), 'ECONNRESET');
      await until(() => f.finished.length === 1, 'the relay to finish');
      assert.equal(f.finished[0].closed, true);
      assert.equal(f.open.size, 0, 'no finished relay is held as open');
    } finally {
      f.close();
    }
  });

  it('sends the PROXY header first, from the client and local addresses of the raw handle', async () => {
    const f = front(() => originState(echo.port), {
      header: (client) => {
        const a = relay.addresses(client);
        return `PROXY TCP4 ${a.ip} ${a.localIp} ${a.port} 1\r\n`;
      },
    });
    try {
      const before = echo.firstLines.length;
      const c = connect({ host: '127.0.0.1', port: f.port });
      const local = await new Promise<number>((resolve) => c.once('connect', () => resolve(c.localPort!)));
      c.end('after');
      await until(() => echo.firstLines.length > before, 'the origin to read');
      assert.equal(echo.firstLines.at(-1), `PROXY TCP4 127.0.0.1 127.0.0.1 ${local} 1`);
    } finally {
      f.close();
    }
  });

  it('a storm of clients that reset, half-close or send and vanish leaves no relay open', async () => {
    const f = front(() => originState(echo.port));
    try {
      const n = 150;
      await Promise.all(Array.from({ length: n }, (_, i) => new Promise<void>((resolve) => {
        const c = connect({ host: '127.0.0.1', port: f.port, allowHalfOpen: true });
        c.on('error', () => undefined);
        c.on('close', () => resolve());
        c.resume();
        c.once('connect', () => {
          if (i % 3 === 0) c.resetAndDestroy();
          else if (i % 3 === 1) c.end(Buffer.alloc(70_000, 1));
          else c.write('x', () => c.destroy());
        });
      })));
      await until(() => f.finished.length === n, `all ${n} relays to finish (${f.finished.length} did)`);
      assert.equal(f.open.size, 0);
    } finally {
      f.close();
    }
  });

  it('an idle connection is closed by the sweep; a busy one is not', async () => {
    const f = front(() => originState(echo.port), { idleMs: 150 });
    try {
      const idle = connect({ host: '127.0.0.1', port: f.port });
      const busy = connect({ host: '127.0.0.1', port: f.port });
      idle.resume();
      const idleEnd = ending(idle);
      let busyClosed = false;
      busy.on('close', () => (busyClosed = true));
      busy.on('error', () => undefined);
      const ticker = setInterval(() => busy.write('.'), 30);
      try {
        assert.equal(await idleEnd, 'closed');
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(busyClosed, false);
      } finally {
        clearInterval(ticker);
        busy.destroy();
      }
    } finally {
      f.close();
    }
  });
});
