/**
 * Connection fault rules reach real sockets: a listener refuses, resets or
 * delays new connections (TCP, UDP, HTTP, HTTPS) while a rule holds, and
 * serves normally once the rules are cleared.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import type { RunningServer } from '../../src/server';
import { admin } from '../console/admin-client';
import { cnClient, startTclocal } from '../helpers';
import { selfSigned } from '../../testkit/pem';
import { bindOrigins, l4Listener, localRealServer, runningProxy, servedPort } from '../support/running-proxy';
import { randomPort, tcpOrigin, udpAsk, udpOrigin, until, whoAnswers, type Origin, type UdpOrigin } from './fixtures';

/** How a TCP connection ended when the client sends `payload` (or nothing) and waits. */
function tcpOutcome(host: string, port: number, payload?: string): Promise<{ received: string; error?: string; connected: boolean }> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let received = '';
    let connected = false;
    s.on('connect', () => {
      connected = true;
      if (payload !== undefined) s.write(payload);
    });
    s.on('data', (d) => {
      received += d.toString();
      // An echo came back: the connection was forwarded.
      if (payload !== undefined && received.includes(payload)) s.end();
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve({ received, error: err.code, connected }));
    s.on('close', () => resolve({ received, connected }));
    // Nothing for this long: neither a fault nor an answer came.
    s.setTimeout(10_000, () => {
      resolve({ received, error: 'TIMEOUT', connected });
      s.destroy();
    });
  });
}

function httpGet(host: string, port: number): Promise<{ status?: number; body?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', headers: { host: 'f.test' }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

function httpsGet(host: string, port: number): Promise<{ answer: string; error?: string }> {
  return new Promise((resolve) => {
    let answer = '';
    const s = tlsConnect({ host, port, servername: 'f.test', rejectUnauthorized: false }, () => {
      s.write('GET / HTTP/1.1\r\nHost: f.test\r\nConnection: close\r\n\r\n');
    });
    s.on('data', (d) => (answer += d.toString()));
    s.on('error', (err: NodeJS.ErrnoException) => resolve({ answer, error: err.code ?? err.message }));
    s.on('close', () => resolve({ answer }));
  });
}

/** A reset reaches a client as ECONNRESET, or as EPIPE when it was still writing. */
const RESET = /^(ECONNRESET|EPIPE)$/;

const timed = async <T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
};

describe('data plane: connection fault rules', () => {
  let server: RunningServer;
  let gaap: any;
  let tcp: Origin;
  let udp: UdpOrigin;
  let web: Server;
  let webPort = 0;
  let webRequests = 0;
  let rsId: string;

  before(async () => {
    server = await startTclocal({ dataplaneFlushMs: 100, dataplaneCaps: false, rateLimits: false });
    gaap = cnClient('gaap', server);
    tcp = await tcpOrigin('A');
    udp = await udpOrigin('U');
    web = createServer((_req, res) => {
      webRequests++;
      res.end('web');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    webPort = (web.address() as { port: number }).port;
    rsId = await localRealServer(gaap);
  });
  after(async () => {
    await admin(server, 'DELETE', '/_tclocal/faults', {});
    await server.stop();
    await tcp.close();
    await udp.close();
    web.closeAllConnections();
    await new Promise((resolve) => web.close(resolve));
  });

  const addFault = async (rule: Record<string, unknown>) => {
    const r = await admin(server, 'POST', '/_tclocal/faults', { kind: 'connection', ...rule });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return r.json.faults[0].id as string;
  };
  const applied = async (id: string) => (await admin(server, 'GET', '/_tclocal/faults')).json.faults.find((f: any) => f.id === id)?.applied;
  const clear = async () => assert.equal((await admin(server, 'DELETE', '/_tclocal/faults', {})).status, 200);

  async function proxy(): Promise<{ proxyId: string; ip: string }> {
    return runningProxy(gaap, 'faults');
  }

  async function l4(protocol: 'TCP' | 'UDP', originPort: number) {
    const { proxyId, ip } = await proxy();
    const { listenerId } = await l4Listener(gaap, proxyId, protocol, { ListenerName: 'f' });
    await bindOrigins(gaap, rsId, listenerId, [{ port: originPort }]);
    const port = await servedPort(server, proxyId, listenerId);
    return { proxyId, listenerId, ip, port };
  }

  async function l7(protocol: 'HTTP' | 'HTTPS') {
    const { proxyId, ip } = await proxy();
    let listenerId: string;
    if (protocol === 'HTTP') {
      listenerId = (await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'f', Port: randomPort() })).ListenerId;
    } else {
      const pem = selfSigned('f.test');
      const certId = (await gaap.CreateCertificate({ CertificateType: 2, CertificateContent: pem.cert, CertificateKey: pem.key, CertificateAlias: 'f' })).CertificateId;
      listenerId = (await gaap.CreateHTTPSListener({ ProxyId: proxyId, ListenerName: 'f', Port: randomPort(), CertificateId: certId, ForwardProtocol: 'HTTP', AuthType: 0 })).ListenerId;
    }
    const { RuleId } = await gaap.CreateRule({ ListenerId: listenerId, Domain: 'f.test', Path: '/', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 0 });
    await gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: rsId, RealServerIP: '127.0.0.1', RealServerPort: webPort }] });
    const port = await servedPort(server, proxyId, listenerId);
    return { proxyId, listenerId, ip, port };
  }

  it('TCP: refuse resets new connections before the origin is contacted; clearing restores traffic', async () => {
    const { proxyId, listenerId, ip, port } = await l4('TCP', tcp.port);
    assert.equal(await whoAnswers(ip, port), 'A');
    const id = await addFault({ proxyId, effect: 'refuse' });
    const before = tcp.accepted;
    // The client sends nothing: the reset comes on its own.
    const out = await tcpOutcome(ip, port);
    assert.equal(out.received, '');
    assert.match(out.error ?? '', RESET);
    assert.equal(await whoAnswers(ip, port), 'REFUSED');
    assert.equal(tcp.accepted, before, 'the origin saw no connection');
    assert.equal(await applied(id), 2);
    // A rule for another listener leaves this one alone.
    await clear();
    await addFault({ listenerId: `${listenerId}-other`, effect: 'refuse' });
    assert.equal(await whoAnswers(ip, port), 'A');
    await clear();
    assert.equal(await whoAnswers(ip, port), 'A');
  });

  it('TCP: reset lets the connection open and resets it when the client sends; times counts connections', async () => {
    const { listenerId, ip, port } = await l4('TCP', tcp.port);
    const id = await addFault({ listenerId, effect: 'reset', times: 2 });
    const before = tcp.accepted;
    for (let i = 0; i < 2; i++) {
      const out = await tcpOutcome(ip, port, 'request');
      assert.equal(out.connected, true);
      assert.equal(out.received, '', 'nothing came back');
      assert.match(out.error ?? '', RESET);
    }
    assert.equal(tcp.accepted, before);
    // The rule is spent: the third connection is forwarded.
    assert.equal(await whoAnswers(ip, port), 'A');
    assert.equal(await applied(id), 2);
    await clear();
  });

  it('TCP: delay holds a connection, unread, before forwarding it; clearing restores', async () => {
    const { listenerId, ip, port } = await l4('TCP', tcp.port);
    const id = await addFault({ listenerId, effect: 'delay', latencyMs: 700 });
    const slow = await timed(() => tcpOutcome(ip, port, 'late'));
    assert.equal(slow.value.received, 'A:late');
    assert.ok(slow.ms >= 650, `answered after ${slow.ms.toFixed(0)} ms`);
    assert.equal(await applied(id), 1);
    await clear();
    assert.equal((await tcpOutcome(ip, port, 'now')).received, 'A:now');
    assert.equal(await applied(id), undefined);
  });

  it('UDP: refuse drops a new session datagrams; delay holds the session first; clearing restores', async () => {
    const { listenerId, ip, port } = await l4('UDP', udp.port);
    const client: UdpSocket = createSocket('udp4');
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    const fresh = () => {
      const s = createSocket('udp4');
      return new Promise<UdpSocket>((resolve) => s.bind(0, '127.0.0.1', () => resolve(s)));
    };
    try {
      assert.equal(await udpAsk(client, ip, port, 'hi'), 'U:hi');
      const id = await addFault({ listenerId, effect: 'refuse' });
      const other = await fresh();
      assert.equal(await udpAsk(other, ip, port, 'dropped', 800), undefined);
      assert.ok((await applied(id)) >= 1);
      // A session that began before the rule is not a new one: it carries on.
      assert.equal(await udpAsk(client, ip, port, 'again'), 'U:again');
      await clear();
      assert.equal(await udpAsk(other, ip, port, 'back'), 'U:back');
      other.close();

      await addFault({ listenerId, effect: 'delay', latencyMs: 600 });
      const late = await fresh();
      const slow = await timed(() => udpAsk(late, ip, port, 'late', 5000));
      assert.equal(slow.value, 'U:late');
      assert.ok(slow.ms >= 550, `answered after ${slow.ms.toFixed(0)} ms`);
      late.close();
      await clear();
    } finally {
      client.close();
    }
  });

  it('HTTP: refuse, reset at the first request (the origin sees none), delay; clearing restores', async () => {
    const { listenerId, ip, port } = await l7('HTTP');
    await until(async () => (await httpGet(ip, port)).body === 'web', 'the rule to serve');
    await addFault({ listenerId, effect: 'refuse' });
    assert.match((await httpGet(ip, port)).error ?? '', RESET);
    await clear();
    assert.equal((await httpGet(ip, port)).status, 200);

    const before = webRequests;
    await addFault({ listenerId, effect: 'reset', times: 1 });
    assert.match((await httpGet(ip, port)).error ?? '', RESET);
    assert.equal(webRequests, before, 'the origin saw no request');
    assert.equal((await httpGet(ip, port)).body, 'web', 'the rule is spent');

    await addFault({ listenerId, effect: 'delay', latencyMs: 600 });
    const slow = await timed(() => httpGet(ip, port));
    assert.equal(slow.value.body, 'web');
    assert.ok(slow.ms >= 550, `answered after ${slow.ms.toFixed(0)} ms`);
    await clear();
    assert.equal((await httpGet(ip, port)).body, 'web');
  });

  it('HTTPS: refuse resets before the handshake, reset after it at the first request; clearing restores', async () => {
    const { listenerId, ip, port } = await l7('HTTPS');
    await until(async () => (await httpsGet(ip, port)).answer.endsWith('web'), 'the rule to serve');
    await addFault({ listenerId, effect: 'refuse' });
    assert.match((await httpsGet(ip, port)).error ?? '', RESET);
    await clear();
    const before = webRequests;
    await addFault({ listenerId, effect: 'reset' });
    const reset = await httpsGet(ip, port);
    assert.match(reset.error ?? '', RESET);
    assert.equal(reset.answer, '');
    assert.equal(webRequests, before);
    await clear();
    assert.ok((await httpsGet(ip, port)).answer.endsWith('web'));
  });
});
