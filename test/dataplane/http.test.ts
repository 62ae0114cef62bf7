import assert from 'node:assert/strict';
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { RunningServer } from '../../src/server';
import { issuedBy, selfSigned } from '../../testkit/pem';
import { runningProxy, servedPort, startPlane, stopPlane } from '../support/running-proxy';
import { bj, randomPort, until } from './fixtures';
import { parseAnswer, rawExchange } from './http-fixtures';

interface HttpOrigin {
  server: Server;
  port: number;
  /** TCP connections accepted so far. */
  connections: number;
  /** `/health` answers 503 while set (200 otherwise). */
  sick: boolean;
  close(): Promise<void>;
}

/** An origin answering `{ name, url, host, headers }` as JSON; `/status/N` answers N; `/hang` never answers. */
async function httpOrigin(name: string): Promise<HttpOrigin> {
  const upgraded = new Set<Duplex>();
  const o: HttpOrigin = {
    server: createServer((req, res) => {
      if (req.url === '/hang') return;
      if (req.url === '/health') {
        res.writeHead(o.sick ? 503 : 200);
        res.end();
        return;
      }
      const status = /^\/status\/(\d{3})/.exec(req.url ?? '')?.[1];
      const body = JSON.stringify({ name, url: req.url, host: req.headers.host, headers: req.headers });
      res.writeHead(status ? Number(status) : 200, { 'content-type': 'application/json', 'x-origin': name });
      res.end(body);
    }),
    port: 0,
    connections: 0,
    sick: false,
    close: () => new Promise((resolve) => {
      for (const s of upgraded) s.destroy();
      o.server.closeAllConnections();
      o.server.close(() => resolve());
    }),
  };
  o.server.on('connection', () => o.connections++);
  // Upgrades switch to an echo that prefixes what it sends back with the origin's name; `/status/N` declines with N, `/hang` never answers.
  o.server.on('upgrade', (req, socket, head) => {
    if (req.url === '/hang') return void upgraded.add(socket);
    const declined = /^\/status\/(\d{3})/.exec(req.url ?? '')?.[1];
    if (declined) return void socket.end(`HTTP/1.1 ${declined} Declined\r\nX-Origin: ${name}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno`);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\nX-Seen-Host: ${req.headers.host}\r\n\r\n`);
    if (head.length) socket.write(`${name}>${head}`);
    socket.on('data', (d) => socket.write(`${name}>${d}`));
    socket.on('error', () => undefined);
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
  });
  await new Promise<void>((resolve) => o.server.listen(0, '127.0.0.1', resolve));
  o.port = (o.server.address() as { port: number }).port;
  return o;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  reused: boolean;
}

function get(ip: string, port: number, host: string, path: string, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: ip, port, path, headers: { host }, agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });
}

const who = async (ip: string, port: number, host: string, path: string): Promise<string> => {
  const a = await get(ip, port, host, path);
  return a.status === 200 ? JSON.parse(a.body).name : String(a.status);
};

describe('data plane: HTTP and HTTPS listeners route real requests', () => {
  let server: RunningServer;
  let gaap: any;
  let origins: Record<string, HttpOrigin>;
  let rsId: string;

  before(async () => {
    ({ server, gaap, origins, rsId } = await startPlane({ dataplaneFlushMs: 100, dataplaneHttpTimeoutMs: 400, dataplaneCheckScale: 0.02, rateLimits: false }, httpOrigin, ['A', 'B', 'C', 'D']));
  });
  after(() => stopPlane({ server, origins }));

  async function proxy(): Promise<{ proxyId: string; ip: string }> {
    return runningProxy(gaap, 'l7');
  }

  const bound = (proxyId: string, listenerId: string): Promise<number> => servedPort(server, proxyId, listenerId);

  async function rule(listenerId: string, domain: string, path: string, ports: Array<number | [number, number]>, extra: Record<string, unknown> = {}): Promise<string> {
    const { RuleId } = await gaap.CreateRule({ ListenerId: listenerId, Domain: domain, Path: path, RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 0, ...extra });
    await gaap.BindRuleRealServers({
      RuleId,
      RealServerBindSet: ports.map((p) => ({ RealServerId: rsId, RealServerIP: '127.0.0.1', RealServerPort: Array.isArray(p) ? p[0] : p, RealServerWeight: Array.isArray(p) ? p[1] : 1 })),
    });
    return RuleId;
  }

  it('the Host picks the domain, the longest rule path the rule; unknown hosts get 404 until a default server exists', async () => {
    const { proxyId, ip } = await proxy();
    const { ListenerId: l } = await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'web', Port: randomPort() });
    const port = await bound(proxyId, l);
    await rule(l, 'a.test', '/', [origins.A.port]);
    await rule(l, 'a.test', '/api', [origins.B.port]);
    await rule(l, 'a.test', '/api/v2', [origins.C.port]);
    await rule(l, 'b.test', '/static', [origins.D.port]);
    // A path kept encoded (it starts with `/`) matches the same decoded requests, however they encode it.
    await rule(l, 'b.test', '/caf%C3%A9', [origins.C.port]);
    await until(async () => (await who(ip, port, 'a.test', '/api/v2/x')) === 'C', 'the rules to serve');
    await until(async () => (await who(ip, port, 'b.test', '/caf%C3%A9/menu')) === 'C', 'the encoded rule path to serve');
    assert.equal(await who(ip, port, 'b.test', '/caf%c3%a9'), 'C');
    assert.equal(await who(ip, port, 'a.test', '/index.html'), 'A');
    assert.equal(await who(ip, port, 'A.TEST:80', '/api/users'), 'B');
    assert.equal(await who(ip, port, 'a.test', '/api%2Fv2/y'), 'C', 'the decoded path is matched');
    assert.equal(await who(ip, port, 'b.test', '/static/app.js'), 'D');
    // A known host whose rules match nothing, and an unknown host without a default server: 404.
    assert.equal(await who(ip, port, 'b.test', '/other'), '404');
    assert.equal(await who(ip, port, 'nobody.test', '/'), '404');
    await gaap.ModifyDomain({ ListenerId: l, OldDomain: 'a.test', NewDomain: 'a.test', IsDefaultServer: true });
    await until(async () => (await who(ip, port, 'nobody.test', '/api/x')) === 'B', 'the default server to take unknown hosts');
  });

  it('forwards the client Host or the rule ForwardHost, X-Forwarded-For and custom headers; keeps connections alive both sides', async () => {
    const { proxyId, ip } = await proxy();
    const { ListenerId: l } = await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'web', Port: randomPort() });
    const port = await bound(proxyId, l);
    await rule(l, 'plain.test', '/', [origins.A.port]);
    const rewritten = await rule(l, 'plain.test', '/up', [origins.B.port], { ForwardHost: 'backend.internal' });
    await gaap.CreateCustomHeader({ RuleId: rewritten, Headers: [{ HeaderName: 'X-REAL_IP', HeaderValue: '$remote_addr' }, { HeaderName: 'X-Via', HeaderValue: 'gaap:$remote_addr:end' }] });
    await until(async () => {
      const a = await get(ip, port, 'plain.test', '/up');
      return a.status === 200 && JSON.parse(a.body).headers['x-real_ip'] !== undefined;
    }, 'the custom headers');
    const plain = JSON.parse((await get(ip, port, 'plain.test:8080', '/x')).body);
    assert.equal(plain.host, 'plain.test:8080');
    assert.equal(plain.headers['x-forwarded-for'], '127.0.0.1');
    const up = JSON.parse((await get(ip, port, 'plain.test', '/up/1')).body);
    assert.equal(up.host, 'backend.internal');
    assert.equal(up.headers['x-real_ip'], '127.0.0.1');
    assert.equal(up.headers['x-via'], 'gaap:127.0.0.1:end');

    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = origins.A.connections;
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await get(ip, port, 'plain.test', `/k/${i}`, agent));
      assert.ok(answers.every((a) => a.status === 200));
      assert.ok(answers.slice(1).every((a) => a.reused), 'the client connection is kept alive');
      assert.ok(origins.A.connections - before <= 1, `upstream connections are pooled (${origins.A.connections - before} opened)`);
    } finally {
      agent.destroy();
    }
  });

  it('requests are counted into the proxy HttpQPS statistics', async () => {
    const { proxyId, ip } = await proxy();
    const { ListenerId: l } = await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'web', Port: randomPort() });
    const port = await bound(proxyId, l);
    await rule(l, 'q.test', '/', [origins.A.port]);
    await until(async () => (await who(ip, port, 'q.test', '/')) === 'A', 'the rule');
    for (let i = 0; i < 29; i++) await get(ip, port, 'q.test', '/');
    const requests = async (metric: string) => {
      const now = Math.floor(Date.now() / 1000);
      const r = await gaap.DescribeProxyStatistics({ ProxyId: proxyId, StartTime: bj(now - 600), EndTime: bj(now + 60), Granularity: 60, MetricNames: [metric] });
      return Math.round(r.StatisticsData[0].MetricData.reduce((s: number, p: any) => s + (p.Data ?? 0), 0) * 60);
    };
    // Every request counts, including the ones the wait made (at least one).
    const counted = await until(async () => {
      const n = await requests('HttpQPS');
      return n >= 30 ? n : undefined;
    }, 'the requests to be counted');
    assert.ok(counted >= 30 && counted <= 60, `counted ${counted}`);
    assert.equal(await requests('HttpsQPS'), 0);
  });

  it('wrr spreads requests by weight', async () => {
    const { proxyId, ip } = await proxy();
    const { ListenerId: l } = await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'web', Port: randomPort() });
    const port = await bound(proxyId, l);
    await rule(l, 'w.test', '/', [[origins.A.port, 1], [origins.B.port, 3]], { Scheduler: 'wrr' });
    await until(async () => (await who(ip, port, 'w.test', '/')) !== '404', 'the rule');
    const seen: Record<string, number> = {};
    for (let i = 0; i < 40; i++) {
      const n = await who(ip, port, 'w.test', '/');
      seen[n] = (seen[n] ?? 0) + 1;
    }
    assert.deepEqual(seen, { A: 10, B: 30 });
  });

  it('rule health checks take an origin out of scheduling and back, as DescribeRules shows', async () => {
    const { proxyId, ip } = await proxy();
    const { ListenerId: l } = await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'web', Port: randomPort() });
    const port = await bound(proxyId, l);
    const ruleId = await rule(l, 'h.test', '/', [origins.A.port, origins.B.port], {
      HealthCheck: 1, CheckParams: { DelayLoop: 5, ConnectTimeout: 2, Path: '/health', Method: 'GET', StatusCode: [200] },
    });
    const status = async () => {
      const set = (await gaap.DescribeRules({ ListenerId: l })).DomainRuleSet[0].RuleSet.find((r: any) => r.RuleId === ruleId);
      return { bind: set.BindStatus, origins: Object.fromEntries(set.RealServerSet.map((s: any) => [s.RealServerPort, s.RealServerStatus])) };
    };
    await until(async () => (await who(ip, port, 'h.test', '/')) !== '404', 'the rule');
    origins.B.sick = true;
    try {
      await until(async () => {
        const s = await status();
        return s.bind === 0 && s.origins[origins.B.port] === 1 && s.origins[origins.A.port] === 0;
      }, 'B to be reported abnormal');
      const names = new Set<string>();
      for (let i = 0; i < 6; i++) names.add(await who(ip, port, 'h.test', '/'));
      assert.deepEqual([...names], ['A']);
      // Binding the same origins again records them normal; no probe result changes, yet the record is brought back in line.
      await gaap.BindRuleRealServers({
        RuleId: ruleId,
        RealServerBindSet: [origins.A.port, origins.B.port].map((p) => ({ RealServerId: rsId, RealServerIP: '127.0.0.1', RealServerPort: p, RealServerWeight: 1 })),
      });
      await until(async () => {
        const s = await status();
        return s.bind === 0 && s.origins[origins.B.port] === 1 && s.origins[origins.A.port] === 0;
      }, 'B to be recorded abnormal again after the binding', 5000);
    } finally {
      origins.B.sick = false;
    }
    await until(async () => (await status()).bind === 1, 'B to recover');
    const names = new Set<string>();
    for (let i = 0; i < 6; i++) names.add(await who(ip, port, 'h.test', '/'));
    assert.deepEqual([...names].sort(), ['A', 'B']);
  });

  it("rule health checks send CheckParams' method and path with its Domain as Host, and judge the status by its class", async () => {
    const probes: Array<{ method: string; url: string; host: string }> = [];
    let status = 204;
    const checked = createServer((req, res) => {
      probes.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '' });
      res.writeHead(status);
      res.end();
    });
    await new Promise<void>((resolve) => checked.listen(0, '127.0.0.1', resolve));
    try {
      const { proxyId } = await proxy();
      const { ListenerId: l } = await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'web', Port: randomPort() });
      await bound(proxyId, l);
      const ruleId = await rule(l, 'checked.test', '/', [(checked.address() as { port: number }).port], {
        HealthCheck: 1, CheckParams: { DelayLoop: 5, ConnectTimeout: 2, Path: '/probe', Method: 'HEAD', StatusCode: [200], Domain: 'health.checked.test' },
      });
      const originStatus = async () => (await gaap.DescribeRules({ ListenerId: l })).DomainRuleSet[0].RuleSet.find((r: any) => r.RuleId === ruleId).RealServerSet[0].RealServerStatus;
      await until(() => probes.length >= 3, 'three probes');
      assert.deepEqual(probes[0], { method: 'HEAD', url: '/probe', host: 'health.checked.test' });
      // 204 is of the class 200 lists: normal.
      assert.equal(await originStatus(), 0);
      // 404 is of a class not listed: abnormal after the probes in a row it takes.
      status = 404;
      await until(async () => (await originStatus()) === 1, 'a 404 to make the origin abnormal');
      status = 299;
      await until(async () => (await originStatus()) === 0, 'a 299 to make it normal again');
    } finally {
      checked.closeAllConnections();
      checked.close();
    }
  });

  it('upgrades (WebSocket) pass through both ways once the origin switches protocols', async () => {
    const { proxyId, ip } = await proxy();
    const { ListenerId: l } = await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'web', Port: randomPort() });
    const port = await bound(proxyId, l);
    await rule(l, 'ws.test', '/socket', [origins.C.port]);
    await until(async () => (await who(ip, port, 'ws.test', '/socket')) === 'C', 'the rule');
    const requests = async () => {
      const traffic = (await (await fetch(`${server.url}/_tclocal/traffic`)).json()) as { proxies: Array<{ proxyId: string; listeners: Array<{ listenerId: string; requests: number }> }> };
      return traffic.proxies.find((p) => p.proxyId === proxyId)!.listeners.find((x) => x.listenerId === l)!.requests;
    };
    const before = await requests();
    const { status, host, echoed } = await new Promise<{ status: number; host: string; echoed: string }>((resolve, reject) => {
      const req = request({ host: ip, port, path: '/socket/chat', headers: { host: 'ws.test', connection: 'Upgrade', upgrade: 'websocket' }, agent: false });
      req.on('upgrade', (res, socket) => {
        let echoed = '';
        socket.on('data', (d) => {
          echoed += d.toString();
          if (echoed.includes('two')) {
            socket.destroy();
            resolve({ status: res.statusCode ?? 0, host: String(res.headers['x-seen-host']), echoed });
          }
        });
        socket.write('one|');
        setTimeout(() => socket.write('two'), 20);
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 101);
    assert.equal(host, 'ws.test');
    assert.equal(echoed.replace(/C>/g, ''), 'one|two');
    assert.ok(echoed.startsWith('C>'));
    assert.equal(await requests(), before + 1, 'the upgrade request is counted as a request');
  });

  it('ForwardProtocol HTTPS reaches a TLS origin with the rule SNI', async () => {
    const pem = selfSigned('origin.test');
    const tlsOrigin = createHttpsServer({ cert: pem.cert, key: pem.key }, (req, res) => {
      res.end(JSON.stringify({ sni: (req.socket as TLSSocket).servername, host: req.headers.host }));
    });
    await new Promise<void>((resolve) => tlsOrigin.listen(0, '127.0.0.1', resolve));
    try {
      const tlsPort = (tlsOrigin.address() as { port: number }).port;
      const { proxyId, ip } = await proxy();
      const { ListenerId: l } = await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'web', Port: randomPort() });
      const port = await bound(proxyId, l);
      const ruleId = await rule(l, 's.test', '/', [tlsPort], { ForwardProtocol: 'HTTPS', ServerNameIndicationSwitch: 'ON', ServerNameIndication: 'origin.test' });
      const answer = await until(async () => {
        const a = await get(ip, port, 's.test', '/');
        return a.status === 200 ? JSON.parse(a.body) : undefined;
      }, 'the TLS origin');
      assert.deepEqual(answer, { sni: 'origin.test', host: 's.test' });
      // Switched off, no name is sent at all (not even the client's Host).
      await gaap.ModifyRuleAttribute({ ListenerId: l, RuleId: ruleId, ServerNameIndicationSwitch: 'OFF' });
      const plain = await until(async () => {
        const a = await get(ip, port, 's.test', '/');
        const body = a.status === 200 ? JSON.parse(a.body) : undefined;
        return body && body.sni !== 'origin.test' && body;
      }, 'the rule without SNI');
      assert.deepEqual(plain, { sni: false, host: 's.test' });
    } finally {
      tlsOrigin.closeAllConnections();
      tlsOrigin.close();
    }
  });

  it('origin failures answer 502 and 504; error pages rewrite listed statuses of origins and of the proxy, for upgrade requests too', async () => {
    const { proxyId, ip } = await proxy();
    const { ListenerId: l } = await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'web', Port: randomPort() });
    const port = await bound(proxyId, l);
    const dead = await httpOrigin('dead');
    await dead.close();
    await rule(l, 'f.test', '/', [origins.A.port]);
    await rule(l, 'f.test', '/down', [dead.port]);
    await rule(l, 'g.test', '/down', [dead.port]);
    await rule(l, 'g.test', '/', [origins.A.port]);
    await until(async () => (await who(ip, port, 'g.test', '/')) === 'A', 'the rules');
    assert.equal((await get(ip, port, 'f.test', '/down')).status, 502);
    assert.equal((await get(ip, port, 'f.test', '/hang')).status, 504);
    assert.equal((await get(ip, port, 'f.test', '/status/404')).status, 404);

    await gaap.CreateDomainErrorPageInfo({
      ListenerId: l, Domain: 'f.test', ErrorNos: [404, 502], NewErrorNo: 410, Body: '<h1>gone</h1>',
      ClearHeaders: ['X-Origin'], SetHeaders: [{ HeaderName: 'X-Page', HeaderValue: 'custom' }],
    });
    await gaap.CreateDomainErrorPageInfo({ ListenerId: l, Domain: 'f.test', ErrorNos: [504], Body: 'too slow' });
    await until(async () => (await get(ip, port, 'f.test', '/status/404')).status === 410, 'the error page');
    const page = await get(ip, port, 'f.test', '/status/404');
    assert.equal(page.body, '<h1>gone</h1>');
    assert.equal(page.headers['x-page'], 'custom');
    assert.equal(page.headers['x-origin'], undefined);
    assert.equal(page.headers['content-length'], String(Buffer.byteLength('<h1>gone</h1>')));
    const proxied = await get(ip, port, 'f.test', '/down');
    assert.deepEqual([proxied.status, proxied.body], [410, '<h1>gone</h1>']);
    const slow = await get(ip, port, 'f.test', '/hang');
    assert.deepEqual([slow.status, slow.body], [504, 'too slow']);
    // Another domain's pages do not apply.
    assert.equal((await get(ip, port, 'g.test', '/down')).status, 502);
    assert.equal((await get(ip, port, 'g.test', '/status/404')).status, 404);

    // Upgrade requests: the proxy's own refusal and an origin's declining answer get the page as other requests do, and the connection closes after it.
    const upgrade = async (host: string, path: string) => {
      const a = await rawExchange(ip, port, [`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`]);
      return { ...parseAnswer(a.text), closed: a.closed };
    };
    for (const path of ['/down', '/status/404']) {
      const a = await upgrade('f.test', path);
      assert.deepEqual([a.status, a.body, a.headers['x-page'], a.headers['x-origin'], a.headers.connection, a.closed], [410, '<h1>gone</h1>', 'custom', undefined, 'close', true], path);
    }
    const slowUpgrade = await upgrade('f.test', '/hang');
    assert.deepEqual([slowUpgrade.status, slowUpgrade.body], [504, 'too slow']);
    const plain = await upgrade('g.test', '/status/404');
    assert.deepEqual([plain.status, plain.body, plain.headers['x-origin']], [404, 'no', 'A']);
  });

  it('HTTPS serves the listener certificate, and each domain its own by SNI; a new certificate reaches new handshakes', async () => {
    const main = selfSigned('www.example.com', { sans: ['www.example.com'] });
    const other = selfSigned('other.test', { sans: ['other.test'] });
    const renewed = selfSigned('other.test', { sans: ['other.test'] });
    const cert = async (c: { cert: string; key: string }, alias: string) =>
      (await gaap.CreateCertificate({ CertificateType: 2, CertificateContent: c.cert, CertificateKey: c.key, CertificateAlias: alias })).CertificateId as string;
    const mainId = await cert(main, 'main');
    const otherId = await cert(other, 'other');
    const renewedId = await cert(renewed, 'renewed');
    const { proxyId, ip } = await proxy();
    const { ListenerId: l } = await gaap.CreateHTTPSListener({ ProxyId: proxyId, ListenerName: 'tls', Port: randomPort(), CertificateId: mainId, ForwardProtocol: 'HTTP', AuthType: 0 });
    const port = await bound(proxyId, l);
    await gaap.CreateDomain({ ListenerId: l, Domain: 'other.test', CertificateId: otherId });
    await rule(l, 'other.test', '/', [origins.C.port]);
    await rule(l, 'www.example.com', '/', [origins.D.port]);

    const handshake = (servername: string, path: string) => new Promise<{ fingerprint: string; answer: string }>((resolve, reject) => {
      const s = tlsConnect({ host: ip, port, servername, rejectUnauthorized: false }, () => {
        const fingerprint = s.getPeerX509Certificate()?.fingerprint256 ?? '';
        s.write(`GET ${path} HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
        let answer = '';
        s.on('data', (d) => (answer += d.toString()));
        s.on('end', () => resolve({ fingerprint, answer }));
      });
      s.on('error', reject);
    });
    const fp = (pem: string) => new X509Certificate(pem).fingerprint256;
    await until(async () => (await handshake('other.test', '/')).answer.includes('"name":"C"'), 'the HTTPS rule');
    assert.equal((await handshake('other.test', '/')).fingerprint, fp(other.cert));
    const www = await handshake('www.example.com', '/');
    assert.equal(www.fingerprint, fp(main.cert));
    assert.match(www.answer, /"name":"D"/);
    assert.match(www.answer, /"x-forwarded-proto":"https"/);
    assert.equal((await handshake('unknown.test', '/')).fingerprint, fp(main.cert), 'names no domain claims get the listener certificate');

    // An established connection survives the change; the next handshake gets the new certificate.
    const held = tlsConnect({ host: ip, port, servername: 'other.test', rejectUnauthorized: false });
    await new Promise((resolve) => held.once('secureConnect', resolve));
    await gaap.ModifyCertificate({ ListenerId: l, Domain: 'other.test', CertificateId: renewedId });
    await until(async () => (await handshake('other.test', '/')).fingerprint === fp(renewed.cert), 'the renewed certificate');
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      held.on('data', (d) => (text += d.toString()));
      held.on('end', () => resolve(text));
      held.write('GET / HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n');
    });
    assert.match(answer, /"name":"C"/);
  });

  it('AuthType 1 accepts clients with a certificate from the client CA and refuses the others', async () => {
    const server1 = selfSigned('secure.test');
    const ca = selfSigned('Client CA', { sans: [], ca: true });
    const otherCa = selfSigned('Other CA', { sans: [], ca: true });
    const good = issuedBy(ca, 'alice');
    const stranger = issuedBy(otherCa, 'mallory');
    const serverId = (await gaap.CreateCertificate({ CertificateType: 2, CertificateContent: server1.cert, CertificateKey: server1.key, CertificateAlias: 's' })).CertificateId;
    const caId = (await gaap.CreateCertificate({ CertificateType: 1, CertificateContent: ca.cert, CertificateAlias: 'ca' })).CertificateId;
    const { proxyId, ip } = await proxy();
    const { ListenerId: l } = await gaap.CreateHTTPSListener({
      ProxyId: proxyId, ListenerName: 'mtls', Port: randomPort(), CertificateId: serverId, ForwardProtocol: 'HTTP', AuthType: 1, PolyClientCertificateIds: [caId],
    });
    const port = await bound(proxyId, l);
    await rule(l, 'secure.test', '/', [origins.A.port]);
    const ask = (client?: { cert: string; key: string }, servername = 'secure.test') => new Promise<string>((resolve) => {
      const s = tlsConnect({ host: ip, port, servername, rejectUnauthorized: false, ...(client ?? {}) }, () => {
        s.write('GET / HTTP/1.1\r\nHost: secure.test\r\nConnection: close\r\n\r\n');
      });
      let text = '';
      s.on('data', (d) => (text += d.toString()));
      s.on('end', () => resolve(text.includes('"name":"A"') ? 'A' : 'REFUSED'));
      s.on('error', () => resolve('REFUSED'));
    });
    await until(async () => (await ask(good)) === 'A', 'the mutual-TLS rule');
    assert.equal(await ask(good, ''), 'A', 'without SNI the listener certificate and CAs apply');
    assert.equal(await ask(), 'REFUSED');
    assert.equal(await ask(stranger), 'REFUSED');
  });

  it('SetTlsVersion decides which TLS versions a handshake may use', async () => {
    const pem = selfSigned('v.test');
    const certId = (await gaap.CreateCertificate({ CertificateType: 2, CertificateContent: pem.cert, CertificateKey: pem.key, CertificateAlias: 'v' })).CertificateId;
    const { proxyId, ip } = await proxy();
    const { ListenerId: l } = await gaap.CreateHTTPSListener({ ProxyId: proxyId, ListenerName: 'v', Port: randomPort(), CertificateId: certId, ForwardProtocol: 'HTTP', AuthType: 0 });
    const port = await bound(proxyId, l);
    // TLS 1.1 needs OpenSSL's lowest security level on both sides (the WIDE profile's, below).
    const version = (v: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3') => new Promise<string>((resolve) => {
      const s = tlsConnect({ host: ip, port, servername: 'v.test', rejectUnauthorized: false, minVersion: v, maxVersion: v, ...(v === 'TLSv1.1' ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}) }, () => {
        const got = s.getProtocol() ?? '';
        s.destroy();
        resolve(got);
      });
      s.on('error', () => resolve('REFUSED'));
    });
    assert.equal(await version('TLSv1.2'), 'TLSv1.2');
    assert.equal(await version('TLSv1.3'), 'TLSv1.3');
    await gaap.SetTlsVersion({ ListenerId: l, TLSSupportVersion: ['TLSv1.2'], TLSCiphers: 'GAAP_TLS_CIPHERS_GENERAL' });
    await until(async () => (await version('TLSv1.3')) === 'REFUSED', 'TLS 1.3 to be refused');
    assert.equal(await version('TLSv1.2'), 'TLSv1.2');
    await until(async () => (await gaap.DescribeHTTPSListeners({ ListenerId: l })).ListenerSet[0].ListenerStatus === 0, 'the listener to settle');
    await gaap.SetTlsVersion({ ListenerId: l, TLSSupportVersion: ['TLSv1.3'], TLSCiphers: 'GAAP_TLS_CIPHERS_STRICT' });
    await until(async () => (await version('TLSv1.2')) === 'REFUSED', 'TLS 1.2 to be refused');
    assert.equal(await version('TLSv1.3'), 'TLSv1.3');
    // A gap in the list is refused too: TLS 1.1 and 1.3 without 1.2.
    await until(async () => (await gaap.DescribeHTTPSListeners({ ListenerId: l })).ListenerSet[0].ListenerStatus === 0, 'the listener to settle');
    await gaap.SetTlsVersion({ ListenerId: l, TLSSupportVersion: ['TLSv1.1', 'TLSv1.3'], TLSCiphers: 'GAAP_TLS_CIPHERS_WIDE' });
    await until(async () => (await version('TLSv1.1')) === 'TLSv1.1', 'TLS 1.1 to be allowed');
    assert.equal(await version('TLSv1.2'), 'REFUSED');
    assert.equal(await version('TLSv1.3'), 'TLSv1.3');
  });

  it('an opened security policy refuses dropped clients on HTTP listeners', async () => {
    const { proxyId, ip } = await proxy();
    const { ListenerId: l } = await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'web', Port: randomPort() });
    const port = await bound(proxyId, l);
    await rule(l, 'p.test', '/', [origins.A.port]);
    await until(async () => (await who(ip, port, 'p.test', '/')) === 'A', 'the rule');
    const { PolicyId } = await gaap.CreateSecurityPolicy({ ProxyId: proxyId, DefaultAction: 'ACCEPT' });
    await gaap.CreateSecurityRules({ PolicyId, RuleList: [{ SourceCidr: '127.0.0.0/8', Action: 'DROP', Protocol: 'TCP', DestPortRange: String(port), AliasName: 'no-web' }] });
    await gaap.OpenSecurityPolicy({ ProxyId: proxyId, PolicyId });
    const refused = () => who(ip, port, 'p.test', '/').then(() => false, () => true);
    await until(refused, 'the policy to refuse');
    await gaap.CloseSecurityPolicy({ PolicyId });
    await until(async () => (await who(ip, port, 'p.test', '/').catch(() => '')) === 'A', 'traffic after the policy closed');
  });

  it('ForcedRedirect answers HTTP requests with a redirect to HTTPS', async () => {
    const { proxyId, ip } = await proxy();
    const { ListenerId: l } = await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'web', Port: randomPort() });
    const port = await bound(proxyId, l);
    await rule(l, 'r.test', '/', [origins.A.port]);
    await rule(l, 'r.test', '/secure', [origins.A.port], { ForcedRedirect: 'https:' });
    await until(async () => (await get(ip, port, 'r.test', '/secure/a?b=1')).status === 301, 'the redirect');
    assert.equal((await get(ip, port, 'r.test', '/secure/a?b=1')).headers.location, 'https://r.test/secure/a?b=1');
    assert.equal(await who(ip, port, 'r.test', '/plain'), 'A');
  });
});
