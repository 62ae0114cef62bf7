import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import type { RunningServer } from '../../src/server';
import { selfSigned } from '../../testkit/pem';
import { runningProxy, servedPort, startPlane, stopPlane } from '../support/running-proxy';
import { bj, boundListener, randomPort, until } from './fixtures';
import { getOnce, httpListener, httpRule, parseAnswer, rawExchange, scriptedOrigin, statuses, type ScriptedOrigin } from './http-fixtures';


describe('data plane: rule schedulers, passive health and HTTP statistics from real requests', () => {
  let server: RunningServer;
  let gaap: any;
  let origins: Record<string, ScriptedOrigin>;
  let rsId: string;

  before(async () => {
    ({ server, gaap, origins, rsId } = await startPlane({ dataplaneFlushMs: 100, dataplaneHttpTimeoutMs: 2000, dataplaneCheckScale: 0.02, rateLimits: false }, scriptedOrigin, ['A', 'B', 'C']));
  });
  after(() => stopPlane({ server, origins }));

  const all = () => [origins.A.port, origins.B.port, origins.C.port];
  const nameOf = (body: string) => body.split(' ')[0];

  /** Who answered each of `n` requests sent one after another. */
  async function spread(ip: string, port: number, host: string, n: number, path = '/x'): Promise<Record<string, number>> {
    const seen: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const a = await getOnce(ip, port, host, path);
      const who = a.status === 200 ? nameOf(a.body) : String(a.status);
      seen[who] = (seen[who] ?? 0) + 1;
    }
    return seen;
  }

  it('rr takes origins in turn, wrr by weight', async () => {
    const { ip, port, listenerId } = await httpListener(server, gaap);
    await httpRule(gaap, rsId, listenerId, 'rr.test', all());
    await httpRule(gaap, rsId, listenerId, 'wrr.test', [[origins.A.port, 1], [origins.B.port, 2], [origins.C.port, 3]], { Scheduler: 'wrr' });
    await until(async () => (await getOnce(ip, port, 'wrr.test', '/')).status === 200, 'the rules');
    await until(async () => (await getOnce(ip, port, 'rr.test', '/')).status === 200, 'the rules');
    // Whole rounds from wherever the turn stands.
    assert.deepEqual(await spread(ip, port, 'rr.test', 60), { A: 20, B: 20, C: 20 });
    assert.deepEqual(await spread(ip, port, 'wrr.test', 60), { A: 10, B: 20, C: 30 });
  });

  it('lc sends new requests to the origins with the fewest in flight', async () => {
    const { ip, port, listenerId } = await httpListener(server, gaap);
    await httpRule(gaap, rsId, listenerId, 'lc.test', all(), { Scheduler: 'lc' });
    await until(async () => (await getOnce(ip, port, 'lc.test', '/')).status === 200, 'the rule');
    origins.A.holding = true;
    const held: Array<Promise<unknown>> = [];
    try {
      // Requests for /hold are answered at once by B and C; A keeps them until released.
      await until(async () => {
        held.push(getOnce(ip, port, 'lc.test', '/hold'));
        await new Promise((r) => setTimeout(r, 20));
        return origins.A.seen.includes('/hold');
      }, 'A to hold a request');
      const seen = await spread(ip, port, 'lc.test', 30);
      assert.equal(seen.A, undefined, `A, busy, got none: ${JSON.stringify(seen)}`);
      assert.ok(seen.B >= 10 && seen.C >= 10, JSON.stringify(seen));
    } finally {
      origins.A.release();
      await Promise.all(held);
    }
  });

  it('lrtt prefers the origins that answer fastest', async () => {
    const { ip, port, listenerId } = await httpListener(server, gaap);
    await httpRule(gaap, rsId, listenerId, 'lrtt.test', all(), { Scheduler: 'lrtt' });
    await until(async () => (await getOnce(ip, port, 'lrtt.test', '/')).status === 200, 'the rule');
    origins.A.delayMs = 300;
    try {
      const seen = await spread(ip, port, 'lrtt.test', 40);
      // A is measured once or twice at most before its slowness shows.
      assert.ok((seen.A ?? 0) <= 3, JSON.stringify(seen));
      assert.equal((seen.B ?? 0) + (seen.C ?? 0) + (seen.A ?? 0), 40);
    } finally {
      origins.A.delayMs = 0;
    }
  });

  it('lrtt without health checks leaves a refusing origin after its first failure, on the fast path, on Node\'s server and for upgrades (a failure counts as the whole timeout)', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const { ip, port, listenerId } = await httpListener(server, gaap);
    // A GET without a body takes the fast path; a POST with one goes to Node's server; an upgrade goes its own way (A declines it with a plain answer).
    const requests = {
      fast: (host: string) => `GET /x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      node: (host: string) => `POST /x HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`,
      upgrade: (host: string) => `GET /x HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
    };
    for (const [path, request] of Object.entries(requests)) {
      const host = `lrtt-dead-${path}.test`;
      await httpRule(gaap, rsId, listenerId, host, [origins.A.port, deadPort], { Scheduler: 'lrtt' });
      const once = async () => {
        const a = parseAnswer((await rawExchange(ip, port, [request(host)])).text);
        return a.status === 200 ? nameOf(a.body) : String(a.status);
      };
      // Served (by either origin) once the rule is in effect.
      await until(async () => ['A', '502'].includes(await once()), `the rule of ${host}`);
      const seen: string[] = [];
      for (let i = 0; i < 10; i++) seen.push(await once());
      assert.ok(seen.filter((s) => s !== 'A').length <= 1, `${path}: ${seen.join(',')}`);
      assert.deepEqual(seen.slice(1), Array(9).fill('A'), `${path}: ${seen.join(',')}`);
    }
  });

  it('an origin failing FailedThreshold real requests within FailedCountInter is blocked for BlockInter, in routing and in DescribeRules', async () => {
    const { proxyId, ip, port, listenerId } = await httpListener(server, gaap);
    // With the check scale of 0.02: probes every 100 ms, failures counted over 12 s, a block of 6 s.
    const ruleId = await httpRule(gaap, rsId, listenerId, 'p.test', [origins.A.port, origins.B.port], {
      HealthCheck: 1,
      CheckParams: { DelayLoop: 5, ConnectTimeout: 2, Path: '/health', Method: 'GET', StatusCode: [200], FailedCountInter: 600, FailedThreshold: 3, BlockInter: 300 },
    });
    const status = async () => {
      const rule = (await gaap.DescribeRules({ ListenerId: listenerId })).DomainRuleSet[0].RuleSet.find((r: any) => r.RuleId === ruleId);
      return { bind: rule.BindStatus, b: rule.RealServerSet.find((s: any) => s.RealServerPort === origins.B.port).RealServerStatus };
    };
    await until(async () => (await getOnce(ip, port, 'p.test', '/')).status === 200, 'the rule');
    origins.B.failing = true;
    try {
      // Active checks still pass (B answers /health); real requests to B fail until it is blocked.
      await until(async () => {
        const s = await status();
        if (s.bind === 0 && s.b === 1) return true;
        await getOnce(ip, port, 'p.test', '/x');
        return false;
      }, 'B to be blocked');
      const report = await boundListener(server, proxyId, listenerId) as any;
      assert.equal(report.domains[0].rules[0].origins.find((o: any) => o.port === origins.B.port).blocked, true);
      assert.deepEqual(await spread(ip, port, 'p.test', 10), { A: 10 });
    } finally {
      origins.B.failing = false;
    }
    // The health series of the real server on this rule shows the blocked minute.
    await until(async () => {
      const r = await gaap.DescribeRealServerStatistics({ RealServerId: rsId, RuleId: ruleId, WithinTime: 1 });
      return r.StatisticsData.some((p: any) => p.Data === 0);
    }, 'the health series to show the block');
    await until(async () => (await status()).bind === 1, 'the block to end', 20_000);
    const after = await spread(ip, port, 'p.test', 10);
    assert.deepEqual(after, { A: 5, B: 5 });
  });

  it('an answer the origin cuts midway counts as a failure for the passive checks, on the fast path as on Node\'s server', async () => {
    const { ip, port, listenerId } = await httpListener(server, gaap);
    // A GET without a body takes the fast path; a POST with one goes to Node's server. `/reset-mid` sends a head and part of the body, then resets.
    const requests = {
      fast: (host: string) => `GET /reset-mid HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      node: (host: string) => `POST /reset-mid HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`,
    };
    for (const [path, request] of Object.entries(requests)) {
      const host = `mid-${path}.test`;
      const ruleId = await httpRule(gaap, rsId, listenerId, host, [origins.A.port], {
        HealthCheck: 1,
        CheckParams: { DelayLoop: 5, ConnectTimeout: 2, Path: '/health', Method: 'GET', StatusCode: [200], FailedCountInter: 600, FailedThreshold: 3, BlockInter: 300 },
      });
      const blocked = async () => {
        const rule = (await gaap.DescribeRules({ ListenerId: listenerId })).DomainRuleSet.find((d: any) => d.Domain === host).RuleSet.find((r: any) => r.RuleId === ruleId);
        return rule.RealServerSet[0].RealServerStatus === 1;
      };
      await until(async () => (await getOnce(ip, port, host, '/')).status === 200, `the rule of ${host}`);
      let sent = 0;
      await until(async () => {
        if (await blocked()) return true;
        const cut = await rawExchange(ip, port, [request(host)]);
        assert.equal(statuses(cut.text)[0], 200, `${path}: the head came before the reset`);
        sent++;
        return false;
      }, `${path}: A to be blocked`);
      assert.ok(sent >= 3 && sent <= 5, `${path}: blocked after ${sent} cut answers`);
    }
  });

  it('requests that clients abandon do not count against the origin', async () => {
    const { ip, port, listenerId } = await httpListener(server, gaap);
    const ruleId = await httpRule(gaap, rsId, listenerId, 'q.test', [origins.C.port], {
      HealthCheck: 1,
      CheckParams: { DelayLoop: 5, ConnectTimeout: 2, Path: '/health', Method: 'GET', StatusCode: [200], FailedCountInter: 600, FailedThreshold: 2, BlockInter: 600 },
    });
    await until(async () => (await getOnce(ip, port, 'q.test', '/')).status === 200, 'the rule');
    const seenBefore = origins.C.seen.length;
    for (let i = 0; i < 4; i++) {
      // The client leaves while the origin is still answering.
      await rawExchange(ip, port, ['GET /slow/2000 HTTP/1.1\r\nHost: q.test\r\n\r\n'], { waitMs: 100 });
    }
    await until(() => origins.C.seen.length >= seenBefore + 4, 'the requests to reach the origin');
    assert.equal((await getOnce(ip, port, 'q.test', '/still')).status, 200, 'the origin was not blocked');
    const rule = (await gaap.DescribeRules({ ListenerId: listenerId })).DomainRuleSet[0].RuleSet.find((r: any) => r.RuleId === ruleId);
    assert.equal(rule.BindStatus, 1);
  });

  it('an answer a client stops reading is let go after the origin timeout, without counting against the origin', async () => {
    // An origin of endless answers, written as fast as the proxy reads them.
    // The origin connections carrying an endless answer (health checks and other requests come and go beside them).
    const streaming = new Set<Socket>();
    const endless = createServer((req, res) => {
      if (req.url === '/health' || req.url === '/still') return res.end('fine');
      const s = req.socket;
      streaming.add(s);
      s.once('close', () => streaming.delete(s));
      const chunk = Buffer.alloc(65_536, 7);
      const more = () => {
        while (!res.destroyed && res.write(chunk));
      };
      res.on('drain', more);
      more();
    });
    const sockets = new Set<Socket>();
    endless.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    const clients: Socket[] = [];
    try {
      const { ip, port, listenerId } = await httpListener(server, gaap);
      const ruleId = await httpRule(gaap, rsId, listenerId, 'r.test', [(endless.address() as AddressInfo).port], {
        HealthCheck: 1,
        CheckParams: { DelayLoop: 5, ConnectTimeout: 2, Path: '/health', Method: 'GET', StatusCode: [200], FailedCountInter: 600, FailedThreshold: 2, BlockInter: 600 },
      });
      await until(async () => (await getOnce(ip, port, 'r.test', '/still')).status === 200, 'the rule');
      for (let i = 0; i < 2; i++) {
        // The client asks, then never reads: the answer backs up to the proxy.
        const c = connect({ host: ip, port });
        c.on('error', () => undefined);
        c.pause();
        c.write('GET /endless HTTP/1.1\r\nHost: r.test\r\n\r\n');
        clients.push(c);
      }
      await until(() => streaming.size >= 2, 'both answers to be under way');
      await until(() => streaming.size === 0, 'the origin connections of the stuck answers to be let go', 20_000);
      assert.equal((await getOnce(ip, port, 'r.test', '/still')).status, 200, 'the origin was not blocked');
      const rule = (await gaap.DescribeRules({ ListenerId: listenerId })).DomainRuleSet[0].RuleSet.find((r: any) => r.RuleId === ruleId);
      assert.equal(rule.BindStatus, 1);
    } finally {
      for (const c of clients) c.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => endless.close(() => resolve()));
    }
  });

  it('a group HTTP listener serves on every member proxy and counts into the group statistics', async () => {
    const { GroupId } = await gaap.CreateProxyGroup({
      ProjectId: 0, GroupName: 'g', RealServerRegion: 'Beijing',
      AccessRegionSet: [{ AccessRegion: 'Hongkong', Bandwidth: 10, Concurrent: 2 }, { AccessRegion: 'Japan', Bandwidth: 10, Concurrent: 2 }],
    });
    const members = (await gaap.DescribeProxies({ Filters: [{ Name: 'GroupId', Values: [GroupId] }] })).ProxySet;
    const { ListenerId } = await gaap.CreateHTTPListener({ GroupId, ListenerName: 'g', Port: randomPort() });
    await httpRule(gaap, rsId, ListenerId, 'grp.test', [origins.B.port]);
    let sent = 0;
    for (const p of members) {
      const port = await servedPort(server, p.ProxyId, ListenerId);
      const bytes = 'GET /g HTTP/1.1\r\nHost: grp.test\r\nConnection: close\r\n\r\n';
      await until(async () => {
        const a = await rawExchange(p.IP, port, [bytes]);
        sent += bytes.length;
        return statuses(a.text)[0] === 200;
      }, `the listener on ${p.IP}`);
    }
    await until(async () => {
      const now = Math.floor(Date.now() / 1000);
      const r = await gaap.DescribeProxyGroupStatistics({ GroupId, StartTime: bj(now - 600), EndTime: bj(now + 60), Granularity: 60, MetricNames: ['InBandwidth', 'Concurrent'] });
      const [inBw, concurrent] = r.StatisticsData.map((m: any) => m.MetricData.map((d: any) => d.Data ?? 0) as number[]);
      return Math.round((inBw.reduce((a: number, b: number) => a + b, 0) * 60) / 8) === sent && Math.max(...concurrent) >= 1;
    }, 'the group counters');
  });

  it('HttpQPS, HttpsQPS, their percentages, Latency, bytes and connections come back from the statistics actions', async () => {
    const { proxyId, ip, port, listenerId } = await httpListener(server, gaap);
    await httpRule(gaap, rsId, listenerId, 's.test', [origins.A.port]);
    const pem = selfSigned('s.test');
    const certId = (await gaap.CreateCertificate({ CertificateType: 2, CertificateContent: pem.cert, CertificateKey: pem.key, CertificateAlias: 's' })).CertificateId;
    // HTTPS on a proxy of its own, so that the HTTP proxy's bytes are the HTTP client's alone.
    const { proxyId: tlsProxy, ip: tlsIp } = await runningProxy(gaap, 'tls');
    const { ListenerId: tlsListener } = await gaap.CreateHTTPSListener({ ProxyId: tlsProxy, ListenerName: 'tls', Port: randomPort(), CertificateId: certId, ForwardProtocol: 'HTTP', AuthType: 0 });
    const tlsPort = await servedPort(server, tlsProxy, tlsListener);
    await httpRule(gaap, rsId, tlsListener, 's.test', [origins.A.port]);

    // Every byte of every request through the HTTP listener, counted by the client.
    let sent = 0;
    let received = 0;
    let requests = 0;
    const ask = async () => {
      const bytes = `GET /stats/${requests} HTTP/1.1\r\nHost: s.test\r\nConnection: close\r\n\r\n`;
      const a = await rawExchange(ip, port, [bytes]);
      sent += Buffer.byteLength(bytes);
      received += Buffer.byteLength(a.text, 'latin1');
      requests++;
      return statuses(a.text)[0];
    };
    await until(async () => (await ask()) === 200, 'the rule');
    while (requests < 30) assert.equal(await ask(), 200);
    const httpsRequests = 12;
    for (let i = 0; i < httpsRequests; i++) {
      const text = await new Promise<string>((resolve, reject) => {
        const s = tlsConnect({ host: tlsIp, port: tlsPort, servername: 's.test', rejectUnauthorized: false }, () => s.write('GET / HTTP/1.1\r\nHost: s.test\r\nConnection: close\r\n\r\n'));
        let t = '';
        s.on('data', (d) => (t += d.toString()));
        s.on('end', () => resolve(t));
        s.on('error', reject);
      });
      assert.match(text, /^HTTP\/1\.1 200/);
    }

    const series = async (metric: string, proxy = proxyId) => {
      const now = Math.floor(Date.now() / 1000);
      const r = await gaap.DescribeProxyStatistics({ ProxyId: proxy, StartTime: bj(now - 600), EndTime: bj(now + 60), Granularity: 60, MetricNames: [metric] });
      return r.StatisticsData[0].MetricData.map((p: any) => p.Data ?? 0) as number[];
    };
    const total = async (metric: string, proxy = proxyId) => (await series(metric, proxy)).reduce((s, v) => s + v, 0);
    // Rates are the minute's average per second: × 60 gives the count.
    await until(async () => Math.round((await total('HttpQPS')) * 60) === requests, 'the HTTP requests to be counted');
    await until(async () => Math.round((await total('HttpsQPS', tlsProxy)) * 60) === httpsRequests, 'the HTTPS requests to be counted');
    assert.equal(await total('HttpsQPS'), 0);
    assert.equal(await total('HttpQPS', tlsProxy), 0);
    // Concurrent 2 sizes the proxy for 20,000 requests a second.
    const capacity = 20_000;
    assert.ok(Math.abs((await total('HttpQPSPercent')) - ((await total('HttpQPS')) / capacity) * 100) < 1e-9);
    assert.ok(Math.abs((await total('HttpsQPSPercent', tlsProxy)) - ((await total('HttpsQPS', tlsProxy)) / capacity) * 100) < 1e-9);
    assert.ok((await total('HttpsQPSPercent', tlsProxy)) > 0);
    const latency = Math.max(...(await series('Latency')));
    assert.ok(latency > 0 && latency < 2000, `latency ${latency} ms`);

    // The proxy carried exactly the client's bytes; bandwidth is each minute's average in bit/s: bytes = Σ Data × 60 / 8.
    await until(async () => Math.round(((await total('InBandwidth')) * 60) / 8) === sent, 'the inbound bytes');
    await until(async () => Math.round(((await total('OutBandwidth')) * 60) / 8) === received, 'the outbound bytes');
    assert.ok((await total('InPackets')) > 0);
    assert.ok(Math.max(...(await series('Concurrent'))) >= 1);
    // The listener's own series count the same connections.
    const now = Math.floor(Date.now() / 1000);
    const l = await gaap.DescribeListenerStatistics({ ListenerId: listenerId, StartTime: bj(now - 3600), EndTime: bj(now + 300), Granularity: 300, MetricNames: ['Concurrent', 'InBandwidth'] });
    for (const m of l.StatisticsData) assert.ok(Math.max(...m.MetricData.map((p: any) => p.Data ?? 0)) > 0, m.MetricName);
    // TLS bytes count on the wire.
    assert.ok((await total('InBandwidth', tlsProxy)) > 0);
  });
});
