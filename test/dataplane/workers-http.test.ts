import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { selfSigned } from '../../testkit/pem';
import { runningProxy, servedPort, startPlane, stopPlane } from '../support/running-proxy';
import { acceptedByWorkers, bj, boundListener, dataplaneReport, randomPort, until, workersOf } from './fixtures';
import { getOnce, httpListener as l7Listener, httpRule, scriptedOrigin, type ScriptedOrigin } from './http-fixtures';

/** The origin's name from a scripted origin's answer (`<name> <url> <bytes>`), else the status. */
const who = async (ip: string, port: number, host: string, path = '/'): Promise<string> => {
  const a = await getOnce(ip, port, host, path);
  return a.status === 200 ? a.body.split(' ')[0] : String(a.status);
};

describe('data plane: HTTP and HTTPS listeners in forwarder processes (--dataplane-workers)', () => {
  let server: RunningServer;
  let gaap: any;
  let origins: Record<string, ScriptedOrigin>;
  let rsId: string;

  before(async () => {
    // Health checks every 5 s × 0.02 = 100 ms; passive blocks 600 s × 0.02 = 12 s.
    // Every forwarder accepts on every listener at all times (worker join 0): these tests reach both processes.
    ({ server, gaap, origins, rsId } = await startPlane({ dataplaneWorkers: 2, dataplaneWorkerJoin: 0, dataplaneCaps: false, dataplaneFlushMs: 100, dataplaneCheckScale: 0.02, dataplaneHttpTimeoutMs: 1000, rateLimits: false }, scriptedOrigin, ['A', 'B', 'C']));
    await until(async () => (await workersOf(server)).every((w) => w.running), 'the forwarders to start');
  });
  after(() => stopPlane({ server, origins }));

  const httpListener = () => l7Listener(server, gaap);

  /** A rule on `domain` and `path`, as http-fixtures' `httpRule` makes them. */
  const rule = (listenerId: string, domain: string, path: string, ports: Array<number | [number, number]>, extra: Record<string, unknown> = {}) =>
    httpRule(gaap, rsId, listenerId, domain, ports, { Path: path, ...extra });

  /** Asks until the forwarders have reported `n` more connections accepted; returns every answer. */
  async function throughWorkers(n: number, ask: () => Promise<string>): Promise<string[]> {
    const start = await acceptedByWorkers(server);
    const answers: string[] = [];
    for (let i = 0; i < 300; i++) {
      answers.push(await ask());
      if (i % 5 === 4 && (await acceptedByWorkers(server)) >= start + n) return answers;
    }
    throw new Error(`the forwarders took fewer than ${n} of ${answers.length} connections`);
  }

  const liveListener = async (proxyId: string, listenerId: string) => {
    const traffic = await (await fetch(`${server.url}/_tclocal/traffic`)).json() as any;
    return traffic.proxies.find((p: any) => p.proxyId === proxyId).listeners.find((l: any) => l.listenerId === listenerId);
  };

  it('routes by host and path in the forwarders, and the main process accepts none of the connections', async () => {
    const { proxyId, ip, listenerId, port } = await httpListener();
    await rule(listenerId, 'a.test', '/', [origins.A.port]);
    await rule(listenerId, 'a.test', '/api', [origins.B.port]);
    await rule(listenerId, 'b.test', '/', [origins.C.port]);
    let made = 0;
    await until(async () => (made++, (await who(ip, port, 'b.test')) === 'C'), 'the rules to serve');
    // Every connection so far reported, wherever it was accepted.
    await until(async () => (await liveListener(proxyId, listenerId)).accepted === made, 'the first connections counted');
    const countedBefore = made;
    const start = await acceptedByWorkers(server);
    const n = 30;
    for (let i = 0; i < n / 3; i++) {
      assert.equal(await who(ip, port, 'a.test', '/index.html'), 'A');
      assert.equal(await who(ip, port, 'A.TEST:80', '/api/users'), 'B');
      assert.equal(await who(ip, port, 'b.test', '/x'), 'C');
    }
    // Every connection is counted on the listener once the forwarders have reported; one the main process took would be counted without them.
    await until(async () => (await liveListener(proxyId, listenerId)).accepted - countedBefore === n && (await acceptedByWorkers(server)) - start === n, `the ${n} connections counted`).catch(async () => {
      assert.fail(`accepted on the listener: ${(await liveListener(proxyId, listenerId)).accepted - countedBefore}, by the forwarders: ${(await acceptedByWorkers(server)) - start} of ${n}`);
    });
  });

  it('a configuration change reaches the forwarders: a new domain, new origins of a rule', async () => {
    const { ip, listenerId, port } = await httpListener();
    const ruleId = await rule(listenerId, 'w.test', '/', [[origins.A.port, 1], [origins.B.port, 1]]);
    await until(async () => (await who(ip, port, 'w.test')) !== '404', 'the rule');
    assert.equal(await who(ip, port, 'new.test'), '404');
    await rule(listenerId, 'new.test', '/', [origins.C.port]);
    await until(async () => (await who(ip, port, 'new.test')) === 'C', 'the new domain');
    await throughWorkers(6, async () => {
      const name = await who(ip, port, 'new.test');
      assert.equal(name, 'C');
      return name;
    });
    // The rule's origins change: only B from now on, wherever the connection lands.
    await gaap.BindRuleRealServers({ RuleId: ruleId, RealServerBindSet: [{ RealServerId: rsId, RealServerIP: '127.0.0.1', RealServerPort: origins.B.port, RealServerWeight: 1 }] });
    await until(async () => {
      for (let i = 0; i < 6; i++) if ((await who(ip, port, 'w.test')) !== 'B') return false;
      return true;
    }, 'only B');
    const answers = await throughWorkers(6, () => who(ip, port, 'w.test'));
    assert.deepEqual([...new Set(answers)], ['B']);
  });

  it('an origin found unhealthy by the main process\'s checks gets no request from the forwarders', async () => {
    const { proxyId, ip, listenerId, port } = await httpListener();
    const sick = await scriptedOrigin('S');
    await rule(listenerId, 'h.test', '/', [origins.A.port, sick.port], {
      HealthCheck: 1, CheckParams: { DelayLoop: 5, ConnectTimeout: 2, Path: '/health', Method: 'GET', StatusCode: [200] },
    });
    await until(async () => (await who(ip, port, 'h.test')) === 'S', 'S to serve');
    await sick.close();
    const state = async () => (await boundListener(server, proxyId, listenerId) as any)?.domains[0].rules[0].origins.find((o: any) => o.port === sick.port);
    await until(async () => (await state())?.healthy === false, 'S to be unhealthy');
    const answers = await throughWorkers(8, () => who(ip, port, 'h.test'));
    assert.deepEqual([...new Set(answers)], ['A']);
  });

  it('requests failing in the forwarders block the origin (passive checks decided in the main process)', async () => {
    const { proxyId, ip, listenerId, port } = await httpListener();
    const flaky = await scriptedOrigin('F');
    try {
      await rule(listenerId, 'p.test', '/', [origins.A.port, flaky.port], {
        HealthCheck: 1,
        CheckParams: { DelayLoop: 5, ConnectTimeout: 2, Path: '/health', Method: 'GET', StatusCode: [200], FailedCountInter: 600, FailedThreshold: 3, BlockInter: 600 },
      });
      await until(async () => (await who(ip, port, 'p.test')) === 'F', 'F to serve');
      // Its checks keep passing; real requests are reset.
      flaky.failing = true;
      const blocked = async () => (await boundListener(server, proxyId, listenerId) as any)?.domains[0].rules[0].origins.find((o: any) => o.port === flaky.port)?.blocked === true;
      const start = await acceptedByWorkers(server);
      await until(async () => (await who(ip, port, 'p.test'), await blocked()), 'F to be blocked');
      // The block travels at once; the forwarders' connection counts come with their next report.
      await until(async () => (await acceptedByWorkers(server)) > start, 'the failures seen in the forwarders');
      const answers = await throughWorkers(8, () => who(ip, port, 'p.test'));
      assert.deepEqual([...new Set(answers)], ['A']);
    } finally {
      await flaky.close();
    }
  });

  it('HTTPS is served in the forwarders with the configured certificate; a certificate change reaches new handshakes', async () => {
    const first = selfSigned('s.test', { sans: ['s.test'] });
    const renewed = selfSigned('s.test', { sans: ['s.test'] });
    const cert = async (c: { cert: string; key: string }, alias: string) =>
      (await gaap.CreateCertificate({ CertificateType: 2, CertificateContent: c.cert, CertificateKey: c.key, CertificateAlias: alias })).CertificateId as string;
    const firstId = await cert(first, 'first');
    const renewedId = await cert(renewed, 'renewed');
    const { proxyId, ip } = await runningProxy(gaap, 'l7-workers-tls');
    const { ListenerId: listenerId } = await gaap.CreateHTTPSListener({ ProxyId: proxyId, ListenerName: 'tls', Port: randomPort(), CertificateId: firstId, ForwardProtocol: 'HTTP', AuthType: 0 });
    const port = await servedPort(server, proxyId, listenerId);
    await rule(listenerId, 's.test', '/', [origins.B.port]);
    const handshake = () => new Promise<{ fingerprint: string; answer: string }>((resolve, reject) => {
      const s = tlsConnect({ host: ip, port, servername: 's.test', rejectUnauthorized: false }, () => {
        const fingerprint = s.getPeerX509Certificate()?.fingerprint256 ?? '';
        s.write('GET /tls HTTP/1.1\r\nHost: s.test\r\nConnection: close\r\n\r\n');
        let answer = '';
        s.on('data', (d) => (answer += d.toString()));
        s.on('end', () => resolve({ fingerprint, answer }));
      });
      s.on('error', reject);
    });
    const fp = (pem: string) => new X509Certificate(pem).fingerprint256;
    await until(async () => (await handshake()).answer.includes('B /tls'), 'the HTTPS rule');
    const firstOnes = await throughWorkers(6, async () => {
      const h = await handshake();
      assert.match(h.answer, /B \/tls/);
      return h.fingerprint;
    });
    assert.deepEqual([...new Set(firstOnes)], [fp(first.cert)]);
    // A connection established before the change keeps going; the next handshakes get the new certificate.
    const held = tlsConnect({ host: ip, port, servername: 's.test', rejectUnauthorized: false });
    await new Promise((resolve) => held.once('secureConnect', resolve));
    await gaap.ModifyHTTPSListenerAttribute({ ProxyId: proxyId, ListenerId: listenerId, CertificateId: renewedId });
    await until(async () => (await handshake()).fingerprint === fp(renewed.cert), 'the renewed certificate');
    const heldAnswer = await new Promise<string>((resolve) => {
      let text = '';
      held.on('data', (d) => (text += d.toString()));
      held.on('end', () => resolve(text));
      held.write('GET /held HTTP/1.1\r\nHost: s.test\r\nConnection: close\r\n\r\n');
    });
    assert.match(heldAnswer, /B \/held/);
    const renewedOnes = await throughWorkers(6, async () => (await handshake()).fingerprint);
    assert.deepEqual([...new Set(renewedOnes)], [fp(renewed.cert)]);
  });

  it('a TLS session resumes whichever forwarder takes the next connection: the processes share their ticket keys', async () => {
    const tlsPair = selfSigned('r.test', { sans: ['r.test'] });
    const certId = (await gaap.CreateCertificate({ CertificateType: 2, CertificateContent: tlsPair.cert, CertificateKey: tlsPair.key, CertificateAlias: 'resume' })).CertificateId;
    const { proxyId, ip } = await runningProxy(gaap, 'l7-workers-resume');
    const { ListenerId: listenerId } = await gaap.CreateHTTPSListener({ ProxyId: proxyId, ListenerName: 'tls', Port: randomPort(), CertificateId: certId, ForwardProtocol: 'HTTP', AuthType: 0 });
    const port = await servedPort(server, proxyId, listenerId);
    await rule(listenerId, 'r.test', '/', [origins.A.port]);
    /** One request on a new connection: whether the session was resumed, and the session to offer next. */
    const visit = (session: Buffer | undefined) => new Promise<{ reused: boolean; session: Buffer | undefined; answer: string }>((resolve, reject) => {
      let next: Buffer | undefined;
      const s = tlsConnect({ host: ip, port, servername: 'r.test', rejectUnauthorized: false, session }, () => {
        s.write('GET /r HTTP/1.1\r\nHost: r.test\r\nConnection: close\r\n\r\n');
      });
      s.on('session', (t: Buffer) => (next = t));
      let answer = '';
      s.on('data', (d) => (answer += d.toString()));
      s.on('end', () => resolve({ reused: s.isSessionReused(), session: next, answer }));
      s.on('error', reject);
    });
    await until(async () => (await visit(undefined)).answer.includes('A /r'), 'the HTTPS rule');
    const first = await visit(undefined);
    assert.ok(first.session, 'a session ticket was issued');
    const before = (await workersOf(server)).map((w) => w.accepted);
    const reused: boolean[] = [];
    let spread = false;
    for (let i = 0; i < 60 && !(spread && reused.length >= 12); i++) {
      const v = await visit(first.session);
      assert.match(v.answer, /A \/r/);
      reused.push(v.reused);
      // The runtime renews no ticket on a TLS 1.3 resumption (docs/dataplane.md, "Session resumption").
      if (v.reused) assert.equal(v.session, undefined, 'a resumed connection got a new ticket: the docs say it gets none');
      if (i % 4 === 3) {
        const now = (await workersOf(server)).map((w) => w.accepted);
        spread = now.every((n, k) => n > before[k]);
      }
    }
    assert.ok(spread, 'both forwarders took some of the connections');
    assert.deepEqual([...new Set(reused)], [true], `sessions resumed: ${reused.filter(Boolean).length} of ${reused.length}`);
  });

  it('requests served by the forwarders count in HttpQPS and the traffic report; their open connections on the listener and the proxy', async () => {
    const { proxyId, ip, listenerId, port } = await httpListener();
    await rule(listenerId, 'q.test', '/', [origins.A.port]);
    await until(async () => (await who(ip, port, 'q.test')) === 'A', 'the rule');
    const served = (await throughWorkers(10, () => who(ip, port, 'q.test'))).length + 1;
    await until(async () => (await liveListener(proxyId, listenerId)).requests === served, `the traffic report to count ${served} requests`);
    const sum = async () => {
      const now = Math.floor(Date.now() / 1000);
      const r = await gaap.DescribeProxyStatistics({ ProxyId: proxyId, StartTime: bj(now - 600), EndTime: bj(now + 60), Granularity: 60, MetricNames: ['HttpQPS'] });
      return r.StatisticsData[0].MetricData.reduce((s: number, p: any) => s + (p.Data ?? 0), 0);
    };
    // HttpQPS is each minute's requests per second: requests = Σ Data × 60.
    await until(async () => Math.round((await sum()) * 60) === served, `HttpQPS to count ${served} requests`);
    // Keep-alive connections held open in the forwarders show on the listener and on its proxy.
    const held = await Promise.all(Array.from({ length: 4 }, () => new Promise<Socket>((resolve) => {
      const s = connect({ host: ip, port }, () => s.write('GET / HTTP/1.1\r\nHost: q.test\r\n\r\n'));
      s.once('data', () => resolve(s));
    })));
    const proxyConnections = async () => (await dataplaneReport(server)).accounts.flatMap((a: any) => a.proxies).find((p: any) => p.proxyId === proxyId).connections;
    await until(async () => (await boundListener(server, proxyId, listenerId))?.connections === 4 && (await proxyConnections()) === 4, 'four open connections on the listener and the proxy');
    for (const s of held) s.destroy();
    await until(async () => (await proxyConnections()) === 0, 'the connections to close');
  });

  it('an HTTP listener no forwarder takes up within 5 s is served by the main process', async () => {
    const stopped = (await workersOf(server)).map((w) => w.pid!);
    // Alive but not running: the forwarders get the new socket and cannot answer, nor accept.
    for (const pid of stopped) process.kill(pid, 'SIGSTOP');
    let at: { ip: string; port: number };
    try {
      const { ip, listenerId, port } = await httpListener();
      at = { ip, port };
      await rule(listenerId, 'm.test', '/', [origins.A.port]);
      await until(async () => (await who(ip, port, 'm.test')) === 'A', 'the main process to serve', 15_000);
    } finally {
      for (const pid of stopped) process.kill(pid, 'SIGCONT');
    }
    await until(async () => (await workersOf(server)).every((w) => w.running), 'the forwarders to run');
    // Running again, the forwarders take up the socket they were handed and serve beside the main process.
    const answers = await throughWorkers(4, () => who(at.ip, at.port, 'm.test'));
    assert.deepEqual([...new Set(answers)], ['A']);
  });

  it('a killed forwarder is started again and serves HTTP', async () => {
    const { ip, listenerId, port } = await httpListener();
    await rule(listenerId, 'k.test', '/', [origins.C.port]);
    await until(async () => (await who(ip, port, 'k.test')) === 'C', 'the rule');
    const [first] = await workersOf(server);
    process.kill(first.pid!, 'SIGKILL');
    const restarted = await until(async () => {
      const w = (await workersOf(server))[0];
      return w.running && w.pid !== first.pid && w;
    }, 'the forwarder to be started again');
    await until(async () => {
      const answers = await throughWorkers(4, () => who(ip, port, 'k.test'));
      assert.deepEqual([...new Set(answers)], ['C']);
      return (await workersOf(server))[0].accepted > restarted.accepted;
    }, 'the new forwarder to serve');
  });
});

describe('data plane: HTTP listeners in forwarder processes take turns: the first accepts, keep-alive clients are spread under load', () => {
  let server: RunningServer;
  let gaap: any;
  let origins: Record<string, ScriptedOrigin>;
  let rsId: string;

  before(async () => {
    // A share this low makes the test's own requests count as a load.
    ({ server, gaap, origins, rsId } = await startPlane({ dataplaneWorkers: 2, dataplaneWorkerJoin: 0.02, dataplaneCaps: false, dataplaneFlushMs: 100, rateLimits: false }, scriptedOrigin, ['A']));
    await until(async () => (await workersOf(server)).every((w) => w.running), 'the forwarders to start');
  });
  after(() => stopPlane({ server, origins }));

  /** One request on the agent's connections: the status and whether the proxy said it closes the connection. */
  const ask = (agent: Agent, ip: string, port: number) => new Promise<{ status: number; closes: boolean }>((resolve, reject) => {
    const req = request({ host: ip, port, path: '/k', headers: { host: 'k.test' }, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, closes: res.headers.connection === 'close' }));
    });
    req.on('error', reject);
    req.end();
  });

  it('a new listener is accepted on by the first forwarder alone; under load the second joins and clients beyond the first one\'s share are asked to connect again, without a failed request', async () => {
    const { ip, listenerId, port } = await l7Listener(server, gaap);
    await httpRule(gaap, rsId, listenerId, 'k.test', [origins.A.port]);
    await until(async () => (await who(ip, port, 'k.test')) === 'A', 'the rule to serve');
    assert.deepEqual((await workersOf(server)).map((w) => w.httpListening), [1, 0], 'at first only the first forwarder accepts');
    const before = (await workersOf(server))[1].accepted;

    // Eight keep-alive clients asking in loops: they all connect to the first forwarder, which keeps them while it is not busy.
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    let loading = true;
    const statuses = new Map<number, number>();
    let closes = 0;
    const loops = Array.from({ length: 8 }, async () => {
      while (loading) {
        const r = await ask(agent, ip, port);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.closes) closes++;
      }
    });
    try {
      await until(async () => {
        const second = (await workersOf(server))[1];
        return second.httpListening === 1 && second.accepted > before;
      }, 'the second forwarder to join and take clients that connected again', 20_000);
    } finally {
      loading = false;
      await Promise.all(loops);
      agent.destroy();
    }
    assert.deepEqual([...statuses.keys()], [200], `every request answered: ${JSON.stringify([...statuses])}`);
    assert.ok(closes > 0, 'some answers said Connection: close');
    assert.ok(closes < 100, `a few clients moved, not every request: ${closes} closes`);
    await until(async () => (await workersOf(server))[1].httpListening === 0, 'the listener back with the first forwarder alone once quiet', 10_000);
  });
});
