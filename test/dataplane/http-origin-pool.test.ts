import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { cnClient, startTclocal } from '../helpers';
import { localRealServer } from '../support/running-proxy';
import { until } from './fixtures';
import { getOnce, httpListener, httpRule, rawExchange, scriptedOrigin, statuses, type L7Setup } from './http-fixtures';

/** An HTTP origin that counts the connections it accepted and those still open, and keeps the last request's headers. */
interface CountingOrigin {
  port: number;
  accepted: number;
  open: Set<Socket>;
  last: { headers: Record<string, unknown>; bytes: number } | undefined;
  close(): Promise<void>;
}

/** `keepAliveMs`: Node's keep-alive time, sent as the `Keep-Alive: timeout` hint; 0 sends no hint and never closes an idle connection. */
async function countingOrigin(keepAliveMs: number): Promise<CountingOrigin> {
  const server: Server = createServer({ keepAliveTimeout: keepAliveMs }, (req, res) => {
    let bytes = 0;
    req.on('data', (d: Buffer) => (bytes += d.length));
    req.on('end', () => {
      o.last = { headers: req.headers, bytes };
      res.end(`counted ${req.url}`);
    });
  });
  const o: CountingOrigin = {
    port: 0,
    accepted: 0,
    open: new Set(),
    last: undefined,
    close: () => new Promise((resolve) => {
      for (const s of o.open) s.destroy();
      server.close(() => resolve());
    }),
  };
  server.on('connection', (s: Socket) => {
    o.accepted++;
    o.open.add(s);
    s.on('close', () => o.open.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  o.port = (server.address() as { port: number }).port;
  return o;
}

describe('data plane: the exchange with HTTP origins (pooled connections, idle time, forwarded heads)', () => {
  let server: RunningServer;
  let gaap: any;
  let rsId: string;
  let web: L7Setup;

  before(async () => {
    server = await startTclocal({ rateLimits: false });
    gaap = cnClient('gaap', server);
    rsId = await localRealServer(gaap);
    web = await httpListener(server, gaap);
  });
  after(async () => {
    await server.stop();
  });

  it('requests of separate clients reuse one origin connection, which is closed once no rule names the origin', async () => {
    // The origin would keep an idle connection for ten minutes: only the proxy can end it early.
    const origin = await countingOrigin(600_000);
    try {
      const ruleId = await httpRule(gaap, rsId, web.listenerId, 'pool.test', [origin.port]);
      await until(async () => (await getOnce(web.ip, web.port, 'pool.test', '/')).status === 200, 'the rule to serve');
      const before = origin.accepted;
      for (let i = 0; i < 10; i++) {
        const a = await getOnce(web.ip, web.port, 'pool.test', `/again/${i}`);
        assert.deepEqual(a, { status: 200, body: `counted /again/${i}` });
      }
      assert.equal(origin.accepted, before, 'ten requests on ten client connections, no new origin connection');
      assert.equal(origin.open.size, 1, 'one pooled connection open');

      await gaap.DeleteRule({ ListenerId: web.listenerId, RuleId: ruleId, Force: 1 });
      await until(() => origin.open.size === 0, 'the pooled connection to be closed after the rule went', 20_000);
    } finally {
      await origin.close();
    }
  });

  /** Ms from an answer of an origin (Node's keep-alive time `keepAliveMs`) until its one pooled connection is closed. */
  async function idleCloseMs(keepAliveMs: number, domain: string): Promise<number> {
    const origin = await countingOrigin(keepAliveMs);
    try {
      await httpRule(gaap, rsId, web.listenerId, domain, [origin.port]);
      await until(async () => (await getOnce(web.ip, web.port, domain, '/')).status === 200, 'the rule to serve');
      const answered = Date.now();
      assert.equal(origin.open.size, 1);
      await until(() => origin.open.size === 0, 'the idle connection to be closed', 20_000);
      return Date.now() - answered;
    } finally {
      await origin.close();
    }
  }

  it('an idle origin connection is closed after 4 s when the origin names no keep-alive time', async () => {
    const ms = await idleCloseMs(0, 'idle.test');
    assert.ok(ms >= 3500, `closed ${ms} ms after the answer`);
  });

  it("an origin's Keep-Alive hint: its idle connection is closed by the proxy a second before the origin would", async () => {
    const ms = await idleCloseMs(3000, 'hint.test');
    assert.ok(ms >= 1700 && ms < 2900, `closed ${ms} ms after the answer (the hint says 3 s: kept 2 s, not the default 4 s)`);
  });

  it('requests held by a slow origin hold neither other requests to it nor other rules', async () => {
    const slow = await scriptedOrigin('S');
    const quick = await scriptedOrigin('Q');
    try {
      await httpRule(gaap, rsId, web.listenerId, 'slow.test', [slow.port]);
      await httpRule(gaap, rsId, web.listenerId, 'quick.test', [quick.port]);
      await until(async () => (await getOnce(web.ip, web.port, 'slow.test', '/')).status === 200, 'the slow rule to serve');
      await until(async () => (await getOnce(web.ip, web.port, 'quick.test', '/')).status === 200, 'the quick rule to serve');
      slow.holding = true;
      // Ten plain requests (the fast path) and ten with a body (Node's path).
      const held = Array.from({ length: 20 }, (_, i) => rawExchange(web.ip, web.port, [
        i % 2 === 0
          ? `GET /hold/${i} HTTP/1.1\r\nHost: slow.test\r\nConnection: close\r\n\r\n`
          : `POST /hold/${i} HTTP/1.1\r\nHost: slow.test\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`,
      ], { waitMs: 30_000 }));
      await until(() => slow.seen.filter((u) => u.startsWith('/hold/')).length === 20, 'the origin to hold twenty requests');
      assert.deepEqual(await getOnce(web.ip, web.port, 'quick.test', '/meanwhile'), { status: 200, body: 'Q /meanwhile 0' });
      const post = await rawExchange(web.ip, web.port, ['POST /meanwhile HTTP/1.1\r\nHost: quick.test\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc']);
      assert.deepEqual(statuses(post.text), [200]);
      assert.match(post.text, /Q \/meanwhile 3$/);
      assert.deepEqual(await getOnce(web.ip, web.port, 'slow.test', '/beside'), { status: 200, body: 'S /beside 0' });
      slow.release();
      for (const a of await Promise.all(held)) assert.deepEqual(statuses(a.text), [200]);
    } finally {
      slow.release();
      await slow.close();
      await quick.close();
    }
  });

  it('Expect: 100-continue is answered by the listener, and custom headers naming framing headers are not sent', async () => {
    const origin = await countingOrigin(5000);
    try {
      const ruleId = await httpRule(gaap, rsId, web.listenerId, 'expect.test', [origin.port]);
      await gaap.CreateCustomHeader({ RuleId: ruleId, Headers: [{ HeaderName: 'X-Kept', HeaderValue: 'yes' }, { HeaderName: 'Expect', HeaderValue: '100-continue' }, { HeaderName: 'Keep-Alive', HeaderValue: 'timeout=1' }] });
      await until(async () => (await getOnce(web.ip, web.port, 'expect.test', '/')).status === 200 && origin.last?.headers['x-kept'] === 'yes', 'the custom headers');
      const a = await rawExchange(web.ip, web.port, ['POST /up HTTP/1.1\r\nHost: expect.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n', 'hello'], { pauseMs: 100 });
      assert.deepEqual(statuses(a.text), [100, 200], a.text);
      assert.equal(origin.last?.bytes, 5);
      assert.equal(origin.last?.headers.expect, undefined, 'no Expect reaches the origin');
      assert.equal(origin.last?.headers['keep-alive'], undefined, 'no custom Keep-Alive');
      assert.equal(origin.last?.headers['x-kept'], 'yes');
    } finally {
      await origin.close();
    }
  });
});
