import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { plainRequest, RawOriginPool } from '../../src/dataplane/http-fast';
import { startPlane, stopPlane } from '../support/running-proxy';
import { prng } from '../../testkit/prng';
import { boundListener, until } from './fixtures';
import { getOnce, httpListener, httpRule, rawExchange, scriptedOrigin, statuses, type L7Setup, type ScriptedOrigin } from './http-fixtures';

describe('data plane: which requests the HTTP fast path serves itself', () => {
  it('takes a plain HTTP/1.1 request without a body, with Connection: close noted', () => {
    const r = plainRequest('GET /a?b=1 HTTP/1.1\r\nHost: x.test\r\nUser-Agent: t\t1\r\nContent-Length: 0\r\nConnection: close');
    assert.deepEqual(r, { method: 'GET', url: '/a?b=1', headers: { host: 'x.test', 'user-agent': 't\t1', 'content-length': '0', connection: 'close' }, close: true });
    assert.equal(plainRequest('HEAD / HTTP/1.1\r\nhost: x.test\r\nConnection: keep-alive')?.close, false);
  });

  it("leaves to Node's server every request it is not sure of", () => {
    const refused: Record<string, string> = {
      'HTTP/1.0': 'GET / HTTP/1.0\r\nHost: x',
      'absolute form': 'GET http://x/ HTTP/1.1\r\nHost: x',
      'asterisk form': 'OPTIONS * HTTP/1.1\r\nHost: x',
      CONNECT: 'CONNECT / HTTP/1.1\r\nHost: x',
      'no Host': 'GET / HTTP/1.1\r\nAccept: */*',
      'a body by length': 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5',
      'a chunked body': 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked',
      Expect: 'PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue',
      Upgrade: 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade',
      'a Connection header naming others': 'GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, x-a',
      'a repeated header': 'GET / HTTP/1.1\r\nHost: x\r\nHost: y',
      'obs-fold': 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2',
      'a space before the colon': 'GET / HTTP/1.1\r\nHost : x',
      'a bare LF': 'GET / HTTP/1.1\r\nHost: x\nX-A: 1',
      'a control character': 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\x00',
      'a no-break space, which trimming would drop': 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\xa0',
      'a space in the target': 'GET /a b HTTP/1.1\r\nHost: x',
      'a URL over 8 KiB': `GET /${'u'.repeat(9000)} HTTP/1.1\r\nHost: x`,
    };
    for (const [what, head] of Object.entries(refused)) assert.equal(plainRequest(head), undefined, what);
  });
});

/** Every byte value once, as a Latin-1 string. */
const EVERY_BYTE = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));

/**
 * An origin speaking raw HTTP/1.1 on keep-alive connections, answering by
 * path with framings Node's server would not choose: chunked, until close,
 * an informational answer first, hop-by-hop headers, a malformed head.
 */
async function framingOrigin(): Promise<{ server: Server; port: number; accepted: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const answers: Record<string, string> = {
    '/chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n',
    '/until-close': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil-close',
    '/head': 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n',
    '/empty': 'HTTP/1.1 204 No Content\r\nX-Empty: 1\r\n\r\n',
    '/early': 'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter',
    '/hop': 'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=30\r\nX-Kept: 2\r\nContent-Length: 3\r\n\r\nhop',
    '/malformed': 'HTTP/1.1 2xx Nope\r\nContent-Length: 0\r\n\r\n',
    '/short': 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this',
    // Says close among other names, and keeps the connection open: only the proxy's reading of the header keeps it from being reused.
    '/close-listed': 'HTTP/1.1 200 OK\r\nConnection: close, X-Secret\r\nX-Secret: 1\r\nContent-Length: 2\r\n\r\nok',
    '/binary': `HTTP/1.1 200 OK\r\nContent-Length: 256\r\nX-Obs: caf\xe9\r\n\r\n${EVERY_BYTE}`,
    '/big-head': `HTTP/1.1 200 OK\r\nX-Big: ${'b'.repeat(20_000)}\r\nContent-Length: 2\r\n\r\nok`,
    '/huge-head': `HTTP/1.1 200 OK\r\nX-Huge: ${'h'.repeat(70_000)}\r\nContent-Length: 2\r\n\r\nok`,
  };
  const server = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const [method, path] = buf.slice(0, end).split(' ');
        buf = buf.slice(end + 4);
        const fixed = answers[path];
        if (path === '/until-reset') {
          s.write('HTTP/1.1 200 OK\r\n\r\npartial');
          setTimeout(() => s.resetAndDestroy(), 30);
        } else if (path === '/until-close' || path === '/short') s.end(fixed, 'latin1');
        else s.write(fixed ?? `HTTP/1.1 200 OK\r\nContent-Length: ${method.length + path.length + 1}\r\n\r\n${method} ${path}`, 'latin1');
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as { port: number }).port,
    accepted: () => accepted,
    close: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

/** The answers in `text`, each as its status, head and body (framed by Content-Length or chunked, decoded; none for 204 and for the answers numbered in `bodiless`). */
function answers(text: string, bodiless: number[] = []): Array<{ status: number; head: string; body: string }> {
  const out = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    const head = rest.slice(0, end);
    rest = rest.slice(end + 4);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: (\d+)/i.exec(head);
    let body = '';
    if (/\r\ntransfer-encoding: chunked/i.test(head)) {
      for (;;) {
        const line = rest.indexOf('\r\n');
        const size = parseInt(rest.slice(0, line), 16);
        rest = rest.slice(line + 2);
        if (size === 0) {
          // The trailer, if any, then its blank line.
          rest = rest.startsWith('\r\n') ? rest.slice(2) : rest.slice(rest.indexOf('\r\n\r\n') + 4);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    } else if (length && status !== 204 && !bodiless.includes(out.length)) {
      body = rest.slice(0, Number(length[1]));
      rest = rest.slice(Number(length[1]));
    }
    out.push({ status, head, body });
  }
  return out;
}

describe('data plane: the HTTP fast path relays every answer framing and hands over the rest', () => {
  let server: RunningServer;
  let gaap: any;
  let origins: Record<string, ScriptedOrigin>;
  let rsId: string;
  let framing: Awaited<ReturnType<typeof framingOrigin>>;
  let web: L7Setup;

  before(async () => {
    ({ server, gaap, origins, rsId } = await startPlane({ rateLimits: false, dataplaneHttpTimeoutMs: 1000 }, scriptedOrigin, ['A']));
    framing = await framingOrigin();
    web = await httpListener(server, gaap);
    await httpRule(gaap, rsId, web.listenerId, 'script.test', [origins.A.port]);
    await httpRule(gaap, rsId, web.listenerId, 'framing.test', [framing.port]);
    await until(async () => (await getOnce(web.ip, web.port, 'framing.test', '/')).status === 200, 'the rules to serve');
  });
  after(async () => {
    await stopPlane({ server, origins });
    await framing.close();
  });

  const get = (path: string, method = 'GET', host = 'framing.test') => `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
  const last = (path: string, host = 'framing.test') => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

  it('chunked, until-close, bodiless, informational and hop-by-hop answers reach the client framed for keep-alive, and the connection serves on', async () => {
    const a = await rawExchange(web.ip, web.port, [get('/chunked') + get('/until-close') + get('/head', 'HEAD') + get('/empty') + get('/early') + get('/hop') + last('/after')]);
    const got = answers(a.text, [2]);
    assert.deepEqual(got.map((x) => x.status), [200, 200, 200, 204, 200, 200, 200], a.text);
    assert.equal(got[0].body, 'hello world');
    assert.equal(got[1].body, 'until-close');
    assert.match(got[1].head, /\r\nTransfer-Encoding: chunked/i, 'a body that ends with the origin connection is chunked to the client');
    assert.match(got[2].head, /\r\nContent-Length: 10/i, 'HEAD keeps the length, without a body');
    assert.match(got[3].head, /\r\nX-Empty: 1/);
    assert.equal(got[4].body, 'after', 'the informational answer stays with the proxy');
    assert.doesNotMatch(got[4].head, /Early Hints|Link:/);
    assert.equal(got[5].body, 'hop');
    assert.doesNotMatch(got[5].head, /X-Secret|timeout=30/i, 'headers the origin listed in Connection, and its Keep-Alive, are its own');
    assert.match(got[5].head, /\r\nX-Kept: 2/);
    for (const x of got.slice(0, -1)) assert.match(x.head, /\r\nConnection: keep-alive/i);
    assert.equal(got[6].body, 'GET /after');
    assert.match(got[6].head, /\r\nConnection: close/i);
    assert.ok(a.closed, 'Connection: close ends the connection after its answer');
  });

  it('answer bodies and header values pass byte for byte, every byte value included', async () => {
    const a = await rawExchange(web.ip, web.port, [last('/binary')]);
    const [got] = answers(a.text);
    assert.equal(got.body, EVERY_BYTE);
    assert.match(got.head, /\r\nX-Obs: caf\xe9/);
  });

  it('pipelined plain requests go one after another over one pooled origin connection', async () => {
    await getOnce(web.ip, web.port, 'framing.test', '/warm');
    const before = framing.accepted();
    const a = await rawExchange(web.ip, web.port, [Array.from({ length: 8 }, (_, i) => get(`/p${i}`)).join('') + last('/p8')]);
    assert.deepEqual(answers(a.text).map((x) => x.body), Array.from({ length: 9 }, (_, i) => `GET /p${i}`));
    assert.equal(framing.accepted(), before, 'no new origin connection');
  });

  it("pipelined plain requests reach the origin one after another: the next is sent once the previous answer is in", async () => {
    const origin = origins.A;
    origin.holding = true;
    try {
      const pending = rawExchange(web.ip, web.port, [get('/hold/first', 'GET', 'script.test') + last('/second', 'script.test')]);
      await until(() => origin.seen.includes('/hold/first'), 'the first request to reach the origin');
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(!origin.seen.includes('/second'), 'the second request waits for the first answer');
      origin.release();
      const a = await pending;
      assert.deepEqual(statuses(a.text), [200, 200]);
      assert.match(a.text, /A \/hold\/first 0[\s\S]*A \/second 0/);
    } finally {
      origin.release();
    }
  });

  it('an origin connection whose answer says close, among other names, is not reused', async () => {
    await getOnce(web.ip, web.port, 'framing.test', '/warm');
    const before = framing.accepted();
    const a = await rawExchange(web.ip, web.port, [get('/close-listed') + last('/next')]);
    const got = answers(a.text);
    assert.deepEqual(got.map((x) => x.body), ['ok', 'GET /next']);
    assert.doesNotMatch(got[0].head, /X-Secret/i);
    assert.equal(framing.accepted(), before + 1, 'the request after it went on a new origin connection');
  });

  it('a malformed answer gives 502, one cut short or reset ends the client connection', async () => {
    const bad = await rawExchange(web.ip, web.port, [get('/malformed') + last('/after')]);
    assert.deepEqual(statuses(bad.text), [502, 200]);
    const cut = await rawExchange(web.ip, web.port, [get('/short') + last('/after')]);
    assert.deepEqual(statuses(cut.text), [200]);
    assert.ok(cut.closed && !cut.text.includes('GET /after'), 'an answer cut short cannot be followed by another on that connection');
    // An answer framed by the origin's close, cut by a reset: the client's connection ends without the last chunk, so it cannot take the cut answer for a whole one.
    const reset = await rawExchange(web.ip, web.port, [get('/until-reset') + last('/after')]);
    assert.deepEqual(statuses(reset.text), [200]);
    assert.match(reset.text, /partial/);
    assert.ok(reset.closed && !reset.text.endsWith('0\r\n\r\n') && !reset.text.includes('GET /after'), JSON.stringify(reset.text));
  });

  it("requests behind a plain one that need Node's server (a body, a malformed head) are answered there, in order", async () => {
    const chunked = 'POST /posted HTTP/1.1\r\nHost: script.test\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n';
    const a = await rawExchange(web.ip, web.port, [get('/first', 'GET', 'script.test') + chunked + last('/third', 'script.test')]);
    assert.deepEqual(statuses(a.text), [200, 200, 200], a.text);
    assert.match(a.text, /A \/first 0[\s\S]*A \/posted 4[\s\S]*A \/third 0/);
    const b = await rawExchange(web.ip, web.port, [get('/fine', 'GET', 'script.test') + 'GET /x HTTP/1.1\r\nHost: script.test\r\nX-A: 1\r\n folded\r\n\r\n']);
    assert.deepEqual(statuses(b.text), [200, 400]);
    assert.ok(b.closed);
  });

  it('a head split across writes, and a client that half-closes after its requests, on either path, are served', async () => {
    const split = await rawExchange(web.ip, web.port, ['GET /split HTTP/1.1\r\nHo', 'st: script.test\r\nConnection: close\r\n\r\n'], { pauseMs: 30 });
    assert.deepEqual(statuses(split.text), [200]);
    assert.match(split.text, /A \/split 0/);
    const half = await new Promise<string>((resolve) => {
      const s = connect({ host: web.ip, port: web.port, allowHalfOpen: true }, () => s.end(get('/one', 'GET', 'script.test') + get('/two', 'GET', 'script.test')));
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString('latin1')));
      s.on('close', () => resolve(text));
    });
    assert.deepEqual(statuses(half), [200, 200]);
    assert.match(half, /A \/one 0[\s\S]*A \/two 0/);
    // The same on Node's path: a request with a body, then the half-close.
    const posted = await new Promise<string>((resolve) => {
      const s = connect({ host: web.ip, port: web.port, allowHalfOpen: true }, () => s.end('POST /posted HTTP/1.1\r\nHost: script.test\r\nContent-Length: 2\r\n\r\nhi'));
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString('latin1')));
      s.on('close', () => resolve(text));
    });
    assert.deepEqual(statuses(posted), [200]);
    assert.match(posted, /A \/posted 2/);
  });

  it('a storm of plain, broken and cut requests mixed at random: only well-formed answers, nothing left open, the listener serves on', async () => {
    const rand = prng(20261204);
    const pieces = [
      get('/ok', 'GET', 'script.test'),
      get('/chunked'),
      'GET /partial HTTP/1.1\r\nHost: scr',
      'POST /body HTTP/1.1\r\nHost: script.test\r\nContent-Length: 3\r\n\r\nabc',
      'POST /chunks HTTP/1.1\r\nHost: script.test\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
      'GET /bad HTTP/1.1\r\nHost: script.test\r\nX-A: \x01\r\n\r\n',
      'GET /smuggled HTTP/1.1\r\nHost: script.test\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n',
      `GET /big HTTP/1.1\r\nHost: script.test\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
      '\r\n\r\n',
      '\x16\x03\x01\x00\x05hello',
      get('/hang', 'GET', 'script.test'),
    ];
    const runs = Array.from({ length: 60 }, () => {
      const bytes = Array.from({ length: 1 + rand.int(5) }, () => rand.pick(pieces)).join('');
      const cut = rand.int(bytes.length);
      const parts = rand.int(2) === 0 ? [bytes] : [bytes.slice(0, cut), bytes.slice(cut)];
      return rawExchange(web.ip, web.port, parts, { waitMs: 2500, pauseMs: rand.int(20) });
    });
    for (const a of await Promise.all(runs)) {
      if (a.text) assert.match(a.text, /^HTTP\/1\.1 \d{3} /, `an answer, not stray bytes: ${JSON.stringify(a.text.slice(0, 80))}`);
    }
    await until(async () => (await boundListener(server, web.proxyId, web.listenerId))?.connections === 0, 'every client connection to be closed');
    assert.deepEqual(await getOnce(web.ip, web.port, 'script.test', '/after'), { status: 200, body: 'A /after 0' });
  });

  it('an answer head up to 64 KiB is relayed and a longer one gives 502, on the fast path and on Node\'s server alike', async () => {
    // HTTP/1.1 takes the fast path; HTTP/1.0 goes to Node's server.
    for (const version of ['1.1', '1.0']) {
      const big = await rawExchange(web.ip, web.port, [`GET /big-head HTTP/${version}\r\nHost: framing.test\r\nConnection: close\r\n\r\n`]);
      assert.deepEqual([statuses(big.text)[0], big.text.includes(`X-Big: ${'b'.repeat(20_000)}\r\n`)], [200, true], `HTTP/${version}`);
      const huge = await rawExchange(web.ip, web.port, [`GET /huge-head HTTP/${version}\r\nHost: framing.test\r\nConnection: close\r\n\r\n`]);
      assert.deepEqual(statuses(huge.text), [502], `HTTP/${version}`);
    }
  });

  it('an origin that does not answer in time gives 504', async () => {
    const a = await rawExchange(web.ip, web.port, [last('/hang', 'script.test')]);
    assert.deepEqual(statuses(a.text), [504]);
    assert.match(a.text, /504 the origin did not answer in time/);
  });
});

describe("data plane: the fast path's idle origin connections", () => {
  let origin: Server;
  let port = 0;
  const open = new Set<Socket>();

  before(async () => {
    origin = createServer((s) => {
      open.add(s);
      s.on('close', () => open.delete(s));
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    port = (origin.address() as { port: number }).port;
  });
  after(() => origin.close());

  it('counts time in steps until the limit, however many steps it takes: an idle connection is closed, and an answer that does not come fails', async () => {
    // Steps of 100 ms (the shorter of the two times); each limit takes several of them.
    const pool = new RawOriginPool('127.0.0.1', port, 300, 100);
    const idle = pool.take().conn;
    const slow = new RawOriginPool('127.0.0.1', port, 100, 350);
    let conn: typeof idle | undefined;
    try {
      await until(() => open.size === 1, 'the origin sees the connection');
      pool.put(idle);
      const closed = Date.now();
      await until(() => open.size === 0, 'the idle connection to be closed', 3000);
      assert.ok(Date.now() - closed >= 150, 'not at the first step');

      conn = slow.take().conn;
      const failed = new Promise<string>((resolve) => conn!.begin({ fail: (err: NodeJS.ErrnoException) => resolve(err.code ?? ''), data: () => undefined, originEnded: () => undefined } as any));
      const started = Date.now();
      const code = await Promise.race([failed, new Promise<string>((r) => setTimeout(() => r('no failure within 3 s'), 3000))]);
      assert.equal(code, 'ETIMEDOUT');
      assert.ok(Date.now() - started >= 300, 'not before the limit');
    } finally {
      idle.socket.destroy();
      conn?.socket.destroy();
      pool.close();
      slow.close();
    }
  });

  it('keeps at most the cap, closes the rest, and takes out any one that closes while others wait', async () => {
    const pool = new RawOriginPool('127.0.0.1', port, 60_000, 60_000, 2);
    const conns = [pool.take(), pool.take(), pool.take()].map((t) => t.conn);
    await until(() => open.size === 3, 'the origin sees three connections');
    for (const c of conns) pool.put(c);
    assert.equal(pool.idleCount, 2);
    await until(() => open.size === 2, 'the one beyond the cap is closed');
    assert.equal(conns[2].socket.destroyed, true);

    // The origin closes the older idle one: it leaves the pool, and the other is the one taken next.
    conns[0].socket.destroy();
    await until(() => pool.idleCount === 1, 'the closed connection leaves the pool');
    const next = pool.take();
    assert.deepEqual([next.conn, next.reused], [conns[1], true]);
    assert.equal(pool.idleCount, 0);

    // Closing the pool with connections waiting leaves nothing behind and nothing broken.
    pool.put(next.conn);
    pool.close();
    await until(() => open.size === 0, 'the pool closes its idle connections');
    assert.equal(pool.idleCount, 0);
  });
});
