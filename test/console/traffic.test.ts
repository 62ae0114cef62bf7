/**
 * GET /_tclocal/traffic reads the running data plane: real bytes pushed
 * through a TCP listener and requests through an HTTP listener show in its
 * counters, and origin health follows the origins. The resource pages carry
 * the same live health.
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { cnClient, DEFAULT_ACCOUNT, startTclocal } from '../helpers';
import { exchange, randomPort, tcpOrigin, until, type Origin } from '../dataplane/fixtures';
import { bindOrigins, l4Listener, localRealServer, runningProxy, servedPort } from '../support/running-proxy';
import { admin } from './admin-client';

describe('console: traffic from the data plane', () => {
  let server: RunningServer;
  let gaap: any;
  let a: Origin;
  let b: Origin;
  let web: Server;
  let rsId: string;
  const account = DEFAULT_ACCOUNT.uin;

  before(async () => {
    server = await startTclocal({ dataplaneCheckScale: 0.02, dataplaneCaps: false, rateLimits: false });
    gaap = cnClient('gaap', server);
    a = await tcpOrigin('A');
    b = await tcpOrigin('B');
    web = createServer((_req, res) => res.end('web'));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    rsId = await localRealServer(gaap);
  });
  after(async () => {
    await server.stop();
    await a.close();
    await b.close().catch(() => undefined);
    web.closeAllConnections();
    await new Promise((resolve) => web.close(resolve));
  });

  const traffic = async (query = '') => {
    const r = await admin(server, 'GET', `/_tclocal/traffic${query}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json;
  };
  const listenerOf = async (proxyId: string, listenerId: string) =>
    (await traffic(`?proxyId=${proxyId}`)).proxies[0]?.listeners.find((l: any) => l.listenerId === listenerId);

  async function proxy(): Promise<{ proxyId: string; ip: string }> {
    return runningProxy(gaap, 'traffic');
  }

  it('counts connections and bytes of a TCP listener, and follows origin health', async () => {
    const { proxyId, ip } = await proxy();
    const { listenerId } = await l4Listener(gaap, proxyId, 'TCP', { ListenerName: 't', HealthCheck: 1, DelayLoop: 5, ConnectTimeout: 2, HealthyThreshold: 1, UnhealthyThreshold: 1 });
    await bindOrigins(gaap, rsId, listenerId, [{ port: a.port }, { port: b.port }]);
    const port = await servedPort(server, proxyId, listenerId);

    const idle = await until(async () => ((await listenerOf(proxyId, listenerId))?.origins.length === 2 ? listenerOf(proxyId, listenerId) : undefined), 'the origins');
    assert.equal(idle.protocol, 'TCP');
    assert.equal(idle.bound, `${ip}:${port}`);
    assert.equal(idle.requests, undefined);

    // Real bytes both ways: 200 KiB in, echoed back with the origin's prefix.
    const payload = Buffer.alloc(200 * 1024, 1);
    for (let i = 0; i < 3; i++) assert.equal((await exchange(ip, port, payload)).length, payload.length + 2);
    // One connection held open shows as open, with what it carried so far.
    const held = connect({ host: ip, port });
    await new Promise<void>((resolve) => held.once('data', () => resolve()));
    held.write('x'.repeat(1000));
    const busy = await until(async () => {
      const l = await listenerOf(proxyId, listenerId);
      return l.connections === 1 && l.bytesIn >= 3 * payload.length + 1000 ? l : undefined;
    }, 'the held connection and its bytes');
    assert.ok(busy.accepted >= 4, `accepted ${busy.accepted}`);
    assert.ok(busy.bytesOut >= 3 * (payload.length + 2), `out ${busy.bytesOut}`);
    assert.deepEqual(busy.origins.map((o: any) => [o.realServerId, o.port, o.healthy]).sort(), [[rsId, a.port, true], [rsId, b.port, true]].sort());
    assert.equal(busy.origins.reduce((n: number, o: any) => n + o.connections, 0), 1);
    held.destroy();
    await until(async () => (await listenerOf(proxyId, listenerId)).connections === 0, 'the connection to close');

    // An origin that goes away turns unhealthy in the report, and in the resource pages.
    await b.close();
    const sick = await until(async () => {
      const l = await listenerOf(proxyId, listenerId);
      return l.origins.find((o: any) => o.port === b.port && !o.healthy) ? l : undefined;
    }, 'the closed origin to be unhealthy');
    assert.equal(sick.origins.find((o: any) => o.port === a.port).healthy, true);

    const detail = (await admin(server, 'GET', `/_tclocal/resources/gaap.realserver/${rsId}?account=${account}`)).json;
    const mine = detail.live.filter((o: any) => o.listenerId === listenerId);
    assert.deepEqual(mine.map((o: any) => [o.proxyId, o.port, o.healthy]).sort(), [[proxyId, a.port, true], [proxyId, b.port, false]].sort());
    const listenerPage = (await admin(server, 'GET', `/_tclocal/resources/gaap.listener/${listenerId}?account=${account}`)).json;
    assert.equal(listenerPage.live.length, 2);
    const list = (await admin(server, 'GET', `/_tclocal/resources/gaap.realserver?account=${account}`)).json;
    assert.ok(list.items.find((r: any) => r.id === rsId).live.some((o: any) => !o.healthy));
  });

  it('counts requests of an HTTP listener with its rules origins', async () => {
    const { proxyId, ip } = await proxy();
    const { ListenerId: listenerId } = await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'h', Port: randomPort() });
    const { RuleId } = await gaap.CreateRule({ ListenerId: listenerId, Domain: 't.test', Path: '/', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 0 });
    const webPort = (web.address() as { port: number }).port;
    await gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: rsId, RealServerIP: '127.0.0.1', RealServerPort: webPort }] });
    const port = await servedPort(server, proxyId, listenerId);
    const get = () => new Promise<string>((resolve, reject) => {
      request({ host: ip, port, path: '/', headers: { host: 't.test' }, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      }).on('error', reject).end();
    });
    await until(async () => (await get()) === 'web', 'the rule to serve');
    for (let i = 0; i < 5; i++) assert.equal(await get(), 'web');
    const l = await until(async () => {
      const x = await listenerOf(proxyId, listenerId);
      return x.requests >= 6 && x.connections === 0 ? x : undefined;
    }, 'the requests to be counted');
    assert.equal(l.protocol, 'HTTP');
    assert.ok(l.accepted >= 6 && l.bytesIn > 0 && l.bytesOut > 0, JSON.stringify(l));
    assert.deepEqual(l.origins.map((o: any) => [o.ruleId, o.port, o.healthy]), [[RuleId, webPort, true]]);
    const rule = (await admin(server, 'GET', `/_tclocal/resources/gaap.rule/${RuleId}?account=${account}`)).json;
    assert.deepEqual(rule.live.map((o: any) => [o.listenerId, o.ruleId]), [[listenerId, RuleId]]);
  });

  it('filters by account and proxy, refuses unknown filters, and lists only proxies with listeners', async () => {
    const { proxyId } = await proxy();
    const all = await traffic();
    assert.equal(all.running, true);
    assert.ok(typeof all.at === 'number');
    assert.ok(all.proxies.every((p: any) => p.listeners.length > 0));
    assert.ok(!all.proxies.some((p: any) => p.proxyId === proxyId), 'a proxy without listeners has nothing to chart');
    assert.deepEqual((await traffic('?account=100000000102')).proxies, []);
    assert.ok((await traffic(`?account=${account}`)).proxies.length >= 2);
    const bad = await admin(server, 'GET', '/_tclocal/traffic?listener=x');
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /unknown filter listener/);
  });
});
