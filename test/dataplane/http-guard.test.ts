import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { DEFAULT_ACCOUNT } from '../helpers';
import { selfSigned } from '../../testkit/pem';
import { servedPort, startPlane, stopPlane } from '../support/running-proxy';
import { boundListener, randomPort, until } from './fixtures';
import { getOnce, httpListener, httpRule, rawExchange, scriptedOrigin, statuses, type L7Setup, type ScriptedOrigin } from './http-fixtures';

const CLIENT_TIMEOUT_MS = 400;
const KEEPALIVE_MS = 300;
const ORIGIN_TIMEOUT_MS = 500;

describe('data plane: HTTP listeners refuse malformed, oversized and slow requests, and survive failing origins', () => {
  let server: RunningServer;
  let gaap: any;
  let origin: ScriptedOrigin;
  let rsId: string;
  let web: L7Setup;

  before(async () => {
    ({ server, gaap, origins: { A: origin }, rsId } = await startPlane({
      dataplaneHttpClientTimeoutMs: CLIENT_TIMEOUT_MS, dataplaneHttpKeepaliveMs: KEEPALIVE_MS, dataplaneHttpTimeoutMs: ORIGIN_TIMEOUT_MS, rateLimits: false,
    }, scriptedOrigin, ['A']));
    web = await httpListener(server, gaap);
    await httpRule(gaap, rsId, web.listenerId, 'g.test', [origin.port]);
    await until(async () => (await getOnce(web.ip, web.port, 'g.test', '/')).status === 200, 'the rule to serve');
  });
  after(() => stopPlane({ server, origins: { origin } }));

  /** The listener still serves a plain request (nothing crashed). */
  const stillServes = async () => assert.equal((await getOnce(web.ip, web.port, 'g.test', '/after')).status, 200);

  it('smuggling attempts answer 400, close the connection, and never reach the origin', async () => {
    const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: g.test\r\n\r\n';
    const attempts: Record<string, string> = {
      'Content-Length with Transfer-Encoding': `POST /a HTTP/1.1\r\nHost: g.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
      'two differing Content-Length': `POST /a HTTP/1.1\r\nHost: g.test\r\nContent-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
      'obs-fold continuation line': `GET /a HTTP/1.1\r\nHost: g.test\r\nX-Folded: one\r\n Transfer-Encoding: chunked\r\n\r\n${smuggled}`,
      'Transfer-Encoding not ending in chunked': `POST /a HTTP/1.1\r\nHost: g.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`,
      'invalid chunk size': `POST /a HTTP/1.1\r\nHost: g.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${smuggled}`,
      'chunk size overflowing': `POST /a HTTP/1.1\r\nHost: g.test\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nx\r\n0\r\n\r\n${smuggled}`,
    };
    for (const [what, bytes] of Object.entries(attempts)) {
      const a = await rawExchange(web.ip, web.port, [bytes]);
      assert.deepEqual(statuses(a.text), [400], `${what}: ${JSON.stringify(a.text)}`);
      assert.ok(a.closed, `${what}: the connection closes`);
    }
    assert.ok(!origin.seen.includes('/smuggled'), 'no smuggled request reached the origin');
    await stillServes();
  });

  it('a malformed request behind pipelined ones is answered after them, then the connection closes', async () => {
    const a = await rawExchange(web.ip, web.port, [
      'GET /slow/150 HTTP/1.1\r\nHost: g.test\r\n\r\nPOST /b HTTP/1.1\r\nHost: g.test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy',
    ]);
    assert.deepEqual(statuses(a.text), [200, 400]);
    assert.match(a.text, /A \/slow\/150 0/);
    assert.ok(a.closed);
  });

  it('URLs over 8 KiB answer 414, heads over 16 KiB 431; the connection closes', async () => {
    for (const [what, bytes, status] of [
      ['a 10 KiB URL', `GET /${'u'.repeat(10_000)} HTTP/1.1\r\nHost: g.test\r\n\r\n`, 414],
      ['a 20 KiB URL', `GET /${'u'.repeat(20_000)} HTTP/1.1\r\nHost: g.test\r\n\r\n`, 414],
      ['a 20 KiB header', `GET / HTTP/1.1\r\nHost: g.test\r\nX-Big: ${'h'.repeat(20_000)}\r\n\r\n`, 431],
      ['many headers over 16 KiB', `GET / HTTP/1.1\r\nHost: g.test\r\n${Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'v'.repeat(40)}\r\n`).join('')}\r\n`, 431],
    ] as const) {
      const a = await rawExchange(web.ip, web.port, [bytes]);
      assert.deepEqual(statuses(a.text), [status], what);
      assert.ok(a.closed, `${what}: the connection closes`);
    }
    // Just under the limits passes.
    assert.equal((await getOnce(web.ip, web.port, 'g.test', `/${'u'.repeat(8000)}`)).status, 200);
    await stillServes();
  });

  it('an HTTP/1.1 request without Host answers 400 and closes, an upgrade as an ordinary request; HTTP/1.0 may omit it', async () => {
    for (const [what, bytes] of [
      ['a request', 'GET /a HTTP/1.1\r\n\r\n'],
      ['an upgrade', 'GET /a HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'],
    ] as const) {
      const a = await rawExchange(web.ip, web.port, [bytes]);
      assert.deepEqual(statuses(a.text), [400], what);
      assert.ok(a.closed, `${what}: the connection closes`);
    }
    // HTTP/1.0 has no Host requirement: the request is routed (this listener has no default domain: 404).
    const old = await rawExchange(web.ip, web.port, ['GET /a HTTP/1.0\r\n\r\n']);
    assert.deepEqual(statuses(old.text), [404]);
    await stillServes();
  });

  it('clients too slow with their head or body get 408 and the connection closes; the origin request is abandoned', async () => {
    const silent = await rawExchange(web.ip, web.port, []);
    assert.deepEqual(statuses(silent.text), [408], 'a client that sends nothing');
    assert.ok(silent.closed && silent.ms >= CLIENT_TIMEOUT_MS - 50, `closed after ${silent.ms} ms`);

    const trickle = await rawExchange(web.ip, web.port, ['GET / HTTP/1.1\r\n', 'Host: g', '.test\r\n', 'X-Slow: 1\r\n'], { pauseMs: 150 });
    assert.deepEqual(statuses(trickle.text), [408], 'a head that never ends');
    assert.ok(trickle.closed);

    const abortedBefore = origin.aborted;
    const body = await rawExchange(web.ip, web.port, ['POST /upload HTTP/1.1\r\nHost: g.test\r\nContent-Length: 100\r\n\r\n', 'first bytes']);
    assert.deepEqual(statuses(body.text), [408], `a body that stops: ${JSON.stringify(body.text)}`);
    assert.ok(body.closed);
    await until(() => origin.aborted > abortedBefore, 'the origin request to be abandoned');

    // A body that keeps coming, however slowly, is not cut.
    const steady = await rawExchange(web.ip, web.port, [
      'POST /steady HTTP/1.1\r\nHost: g.test\r\nContent-Length: 6\r\nConnection: close\r\n\r\n', 'a', 'b', 'c', 'd', 'e', 'f',
    ], { pauseMs: CLIENT_TIMEOUT_MS / 4 });
    assert.deepEqual(statuses(steady.text), [200]);
    assert.match(steady.text, /A \/steady 6/);
    await stillServes();
  });

  it('HTTPS: a handshake or a head that does not come in time ends the connection', async () => {
    const pem = selfSigned('t.test');
    const certId = (await gaap.CreateCertificate({ CertificateType: 2, CertificateContent: pem.cert, CertificateKey: pem.key, CertificateAlias: 't' })).CertificateId;
    const { ListenerId: l } = await gaap.CreateHTTPSListener({ ProxyId: web.proxyId, ListenerName: 'tls', Port: randomPort(), CertificateId: certId, ForwardProtocol: 'HTTP', AuthType: 0 });
    const port = await servedPort(server, web.proxyId, l);
    const noHandshake = await rawExchange(web.ip, port, []);
    assert.ok(noHandshake.closed && noHandshake.text === '', 'a client that never starts TLS is dropped');
    const silent = await new Promise<{ text: string; ms: number }>((resolve) => {
      const started = Date.now();
      let text = '';
      const s = tlsConnect({ host: web.ip, port, servername: 't.test', rejectUnauthorized: false });
      s.on('data', (d) => (text += d.toString()));
      s.on('error', () => undefined);
      s.on('close', () => resolve({ text, ms: Date.now() - started }));
    });
    assert.deepEqual(statuses(silent.text), [408], 'a TLS client that sends no request');
  });

  it('idle keep-alive connections are closed after the keep-alive time', async () => {
    const a = await rawExchange(web.ip, web.port, ['GET /ka HTTP/1.1\r\nHost: g.test\r\n\r\n']);
    assert.deepEqual(statuses(a.text), [200]);
    assert.ok(a.closed, 'closed by the proxy');
    // Node adds up to a second to the keep-alive time; never less than it.
    assert.ok(a.ms >= KEEPALIVE_MS, `closed after ${a.ms} ms`);
  });

  it('pipelined requests are answered in order, whatever order their origins answer in', async () => {
    const paths = ['/slow/300', '/slow/0', '/slow/120', '/slow/10'];
    const a = await rawExchange(web.ip, web.port, [paths.map((p, i) => `GET ${p} HTTP/1.1\r\nHost: g.test\r\n${i === paths.length - 1 ? 'Connection: close\r\n' : ''}\r\n`).join('')]);
    assert.deepEqual(statuses(a.text), [200, 200, 200, 200]);
    const order = [...a.text.matchAll(/A (\/slow\/\d+) 0/g)].map((m) => m[1]);
    assert.deepEqual(order, paths);
    // With bodies they take Node's path, which forwards them as they arrive (the quicker answers can come first): the client still gets them in order.
    const posted = await rawExchange(web.ip, web.port, [paths.map((p, i) => `POST ${p} HTTP/1.1\r\nHost: g.test\r\nContent-Length: 1\r\n${i === paths.length - 1 ? 'Connection: close\r\n' : ''}\r\nx`).join('')]);
    assert.deepEqual(statuses(posted.text), [200, 200, 200, 200]);
    assert.deepEqual([...posted.text.matchAll(/A (\/slow\/\d+) 1/g)].map((m) => m[1]), paths);
  });

  it('origins that refuse, reset mid-answer or hang give a proper answer or a closed connection, never a hung one', async () => {
    const dead = await scriptedOrigin('dead');
    await dead.close();
    const l = await httpListener(server, gaap);
    await httpRule(gaap, rsId, l.listenerId, 'f.test', [origin.port]);
    await gaap.CreateRule({ ListenerId: l.listenerId, Domain: 'f.test', Path: '/refused', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 0 })
      .then(({ RuleId }: { RuleId: string }) => gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: rsId, RealServerIP: '127.0.0.1', RealServerPort: dead.port, RealServerWeight: 1 }] }));
    await until(async () => (await getOnce(l.ip, l.port, 'f.test', '/refused')).status === 502, 'the rules to serve');
    // Plain requests take the fast path; a request with a body never does (Node's path), where an answer cut short is passed on chunked.
    const requestPaths = [
      { via: 'fast path', ask: (path: string) => `GET ${path} HTTP/1.1\r\nHost: f.test\r\n\r\n`, cut: (text: string) => text.endsWith('partial') },
      { via: "Node's path", ask: (path: string) => `POST ${path} HTTP/1.1\r\nHost: f.test\r\nContent-Length: 4\r\n\r\nbody`, cut: (text: string) => text.includes('partial') },
    ];
    for (const { via, ask, cut } of requestPaths) {
      const exchange = (path: string) => rawExchange(l.ip, l.port, [ask(path)], { waitMs: ORIGIN_TIMEOUT_MS * 10 });
      const reset = await exchange('/reset');
      assert.deepEqual(statuses(reset.text), [502], `reset before answering, ${via}`);
      assert.ok(!reset.closed || reset.text.includes('502'), `the client got its answer, ${via}`);
      const hang = await exchange('/hang');
      assert.deepEqual(statuses(hang.text), [504], `silent origin, ${via}`);
      const resetMid = await exchange('/reset-mid');
      assert.deepEqual(statuses(resetMid.text), [200]);
      assert.ok(resetMid.closed && cut(resetMid.text), `an answer cut by the origin ends the connection, ${via}`);
      const hangMid = await exchange('/hang-mid');
      assert.deepEqual(statuses(hangMid.text), [200]);
      assert.ok(hangMid.closed, `an answer the origin stops sending ends the connection after the origin timeout, ${via}`);
      assert.ok(hangMid.ms >= ORIGIN_TIMEOUT_MS, `after ${hangMid.ms} ms, ${via}`);
    }
    // The other listener was never affected.
    await stillServes();
    assert.equal((await getOnce(l.ip, l.port, 'f.test', '/fine')).status, 200);
  });

  it('a pooled origin connection dropped as it is reused: requests without a body go once more on a fresh one', async () => {
    const l = await httpListener(server, gaap);
    await httpRule(gaap, rsId, l.listenerId, 'k.test', [origin.port]);
    await until(async () => (await getOnce(l.ip, l.port, 'k.test', '/')).status === 200, 'the rule');
    origin.oneShot = true;
    try {
      // Each request after the first finds the pooled connection and the origin dropping it.
      for (let i = 0; i < 4; i++) assert.equal((await getOnce(l.ip, l.port, 'k.test', `/again/${i}`)).status, 200);
      // With a body, the request cannot be sent again: the client gets the 502. A request with a body takes Node's path,
      // whose pool is warmed by one first (a plain GET would warm the fast path's pool instead).
      origin.oneShot = false;
      assert.deepEqual(statuses((await rawExchange(l.ip, l.port, ['POST /warm HTTP/1.1\r\nHost: k.test\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi'])).text), [200]);
      origin.oneShot = true;
      const post = await rawExchange(l.ip, l.port, ['POST /once HTTP/1.1\r\nHost: k.test\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi']);
      assert.deepEqual(statuses(post.text), [502]);
    } finally {
      origin.oneShot = false;
    }
  });

  it('the proxy Concurrent cap counts the client connections of HTTP listeners', async () => {
    const l = await httpListener(server, gaap);
    await httpRule(gaap, rsId, l.listenerId, 'c.test', [origin.port]);
    await until(async () => (await getOnce(l.ip, l.port, 'c.test', '/')).status === 200, 'the rule');
    // The smallest Concurrent the API takes is 20,000 connections: the stored value is lowered to 2 connections to measure the cap.
    await server.store.transaction(DEFAULT_ACCOUNT.uin, async (tx) => {
      const rec = await tx.get<Record<string, unknown>>('gaap.proxy', l.proxyId);
      await tx.put({ ...rec!, data: { ...rec!.data, Concurrent: 0.0002 } });
    });
    // Two connections stay busy (their origin holds the answers), so no idle timer ends them.
    origin.holding = true;
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const s = connect({ host: l.ip, port: l.port });
        held.push(s);
        s.on('error', () => undefined);
        s.write('GET /hold HTTP/1.1\r\nHost: c.test\r\n\r\n');
      }
      await until(async () => (await boundListener(server, l.proxyId, l.listenerId))?.connections === 2, 'two connections to be held');
      // The lowered cap reaches the data plane with the commit; a third connection is then reset unanswered.
      await until(async () => {
        const third = await rawExchange(l.ip, l.port, ['GET / HTTP/1.1\r\nHost: c.test\r\nConnection: close\r\n\r\n'], { waitMs: 3000 });
        return third.closed && third.text === '';
      }, 'a third connection to be refused');
    } finally {
      origin.release();
      for (const s of held) s.destroy();
    }
    await until(async () => (await boundListener(server, l.proxyId, l.listenerId))?.connections === 0, 'the held connections to end');
    assert.equal((await getOnce(l.ip, l.port, 'c.test', '/')).status, 200);
  });
});
