import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dns from 'node:dns';
import dnsPromises from 'node:dns/promises';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { cnClient, startTclocal } from '../helpers';
import { bindOrigins, l4Listener, localRealServer, runningProxy, servedPort } from '../support/running-proxy';
import { boundListener, exchange, randomPort, tcpOrigin, until, type Origin } from './fixtures';
import { httpListener, parseAnswer, rawExchange, scriptedOrigin } from './http-fixtures';

const randomOctet = () => 2 + Math.floor(Math.random() * 250);

describe('data plane: DOMAIN origins with several addresses; the PROXY header as an origin reads it', () => {
  let server: RunningServer;
  let gaap: any;
  let origin: Origin;
  const lookup = dnsPromises.lookup;
  /** The callback form, which sockets connecting to a name use (Node's net module reads it at each connect). */
  const lookupCallback = dns.lookup;
  /** A name only this test knows, answered with `answers` (the machine's resolver cannot be given several loopback addresses for a name without changing the system's hosts file). */
  const name = `multi-${process.pid}-${Date.now()}.tclocal.test`;
  let answers: string[] = [];
  /** A second name, which fails to resolve until `lostResolves` (to 127.0.0.1). */
  const lost = `lost-${process.pid}-${Date.now()}.tclocal.test`;
  let lostResolves = false;

  before(async () => {
    (dnsPromises as any).lookup = (host: string, options: any) => {
      if (host === name) return Promise.resolve(answers.map((address) => ({ address, family: 4 })));
      if (host === lost) {
        return lostResolves
          ? Promise.resolve([{ address: '127.0.0.1', family: 4 }])
          : Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${lost}`), { code: 'ENOTFOUND' }));
      }
      return (lookup as any)(host, options);
    };
    (dns as any).lookup = (host: string, options: any, callback: any) => {
      if (host !== name) return (lookupCallback as any)(host, options, callback);
      const done = typeof options === 'function' ? options : callback;
      if (options?.all) return process.nextTick(done, null, answers.map((address) => ({ address, family: 4 })));
      process.nextTick(done, null, answers[0], 4);
    };
    server = await startTclocal({ dataplaneFlushMs: 100, dataplaneCheckScale: 0.05, rateLimits: false });
    gaap = cnClient('gaap', server);
    origin = await tcpOrigin('A');
  });
  after(async () => {
    (dnsPromises as any).lookup = lookup;
    (dns as any).lookup = lookupCallback;
    await server.stop();
    await origin.close();
  });

  /** The real server of `address`, added unless an earlier test added it (a real server's address is unique in an account). */
  const realServer = async (address: string): Promise<string> => {
    const found = (await gaap.DescribeRealServers({ SearchValue: address, ProjectId: 0 })).RealServerSet.find((r: any) => r.RealServerIP === address);
    return found?.RealServerId ?? (await gaap.AddRealServers({ ProjectId: 0, RealServerIP: [address], RealServerName: 'named' })).RealServerSet[0].RealServerId;
  };

  it('tries every address of a DOMAIN origin until one accepts, and probes each, reporting the failed ones in DownIPList', async () => {
    // Nothing listens on the first address; the origin listens on 127.0.0.1, the second.
    const dead = `127.${randomOctet()}.${randomOctet()}.${randomOctet()}`;
    answers = [dead, '127.0.0.1'];
    const { proxyId, ip } = await runningProxy(gaap, 'dom');
    const port = randomPort();
    const [listenerId] = (await gaap.CreateTCPListeners({
      ListenerName: 'dom', Ports: [port], Scheduler: 'rr', RealServerType: 'DOMAIN', ProxyId: proxyId, HealthCheck: 0,
    })).ListenerIds;
    await gaap.BindListenerRealServers({ ListenerId: listenerId, RealServerBindSet: [{ RealServerId: await realServer(name), RealServerIP: name, RealServerPort: origin.port }] });
    await servedPort(server, proxyId, listenerId);

    // The first address refuses: the connection goes on to the second.
    const accepted = origin.accepted;
    assert.equal(await exchange(ip, port, 'via the second address'), 'A:via the second address');
    assert.equal(origin.accepted, accepted + 1);

    // Health checks probe both addresses: the dead one is listed, the origin reported abnormal.
    await gaap.ModifyTCPListenerAttribute({ ListenerId: listenerId, ProxyId: proxyId, HealthCheck: 1, DelayLoop: 5, ConnectTimeout: 2, HealthyThreshold: 1, UnhealthyThreshold: 1 });
    const status = await until(async () => {
      const [b] = (await gaap.DescribeListenerRealServers({ ListenerId: listenerId })).BindRealServerSet;
      return b.DownIPList.length > 0 ? b : undefined;
    }, 'the dead address to be reported');
    assert.deepEqual(status.DownIPList, [`${dead}:${origin.port}`]);
    assert.equal(status.RealServerStatus, 1);

    // Both addresses answering: the origin is healthy again, and every connection still lands.
    const held = new Set<Socket>();
    const second = createServer((s) => {
      held.add(s);
      s.on('close', () => held.delete(s));
      // Health probes connect and go at once (the last probe may still be open when the test ends: it is destroyed below).
      s.on('error', () => undefined);
      s.end('B:');
    });
    await new Promise<void>((r) => second.listen(origin.port, dead, r));
    try {
      await until(async () => (await gaap.DescribeListenerRealServers({ ListenerId: listenerId })).BindRealServerSet[0].DownIPList.length === 0, 'both addresses to be healthy');
      assert.equal(await exchange(ip, port, 'x'), 'B:', 'the first address answers first once it accepts');
      await until(async () => (await boundListener(server, proxyId, listenerId))?.connections === 0, 'the connection to be released');
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => second.close(() => r()));
    }
  });

  it('a rule\'s DOMAIN origin: requests try each of its addresses (fast path and Node\'s server), and its health checks probe each, listing the failed ones in DownIPList', async () => {
    const dead = `127.${randomOctet()}.${randomOctet()}.${randomOctet()}`;
    answers = [dead, '127.0.0.1'];
    const web = await scriptedOrigin('W');
    try {
      const { ip, port, listenerId } = await httpListener(server, gaap);
      const { RuleId } = await gaap.CreateRule({ ListenerId: listenerId, Domain: 'named.test', Path: '/', RealServerType: 'DOMAIN', Scheduler: 'rr', HealthCheck: 0 });
      await gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: await realServer(name), RealServerIP: name, RealServerPort: web.port }] });
      // Nothing listens on the first address: each request goes on to the second. A GET takes the fast path, a POST with a body Node's server.
      const ask = async (request: string) => {
        const { status, body } = parseAnswer((await rawExchange(ip, port, [request])).text);
        return { status, body };
      };
      const get = () => ask('GET /x HTTP/1.1\r\nHost: named.test\r\nConnection: close\r\n\r\n');
      await until(async () => (await get()).status === 200, 'the rule');
      assert.deepEqual(await get(), { status: 200, body: 'W /x 0' });
      assert.deepEqual(await ask('POST /y HTTP/1.1\r\nHost: named.test\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi'), { status: 200, body: 'W /y 2' });

      // Health checks probe both addresses: the dead one is listed, the origin reported abnormal.
      await gaap.ModifyRuleAttribute({
        ListenerId: listenerId, RuleId, HealthCheck: 1,
        CheckParams: { DelayLoop: 5, ConnectTimeout: 2, Path: '/health', Method: 'GET', StatusCode: [200], FailedCountInter: 0, FailedThreshold: 0, BlockInter: 0 },
      });
      const bound = await until(async () => {
        const rule = (await gaap.DescribeRules({ ListenerId: listenerId })).DomainRuleSet[0].RuleSet.find((r: any) => r.RuleId === RuleId);
        const [b] = rule.RealServerSet;
        return b.DownIPList.length > 0 ? b : undefined;
      }, 'the dead address to be reported');
      assert.deepEqual(bound.DownIPList, [`${dead}:${web.port}`]);
      assert.equal(bound.RealServerStatus, 1);
    } finally {
      await web.close();
    }
  });

  it('UDP PING checks (a name that resolves): an origin whose name does not resolve is abnormal with no address listed, and the listener BindStatus 2', async () => {
    const { proxyId } = await runningProxy(gaap, 'ping');
    const { ListenerIds: [listenerId] } = await gaap.CreateUDPListeners({
      ListenerName: 'ping', Ports: [randomPort()], Scheduler: 'rr', RealServerType: 'DOMAIN', ProxyId: proxyId,
      HealthCheck: 1, CheckType: 'PING', DelayLoop: 5, ConnectTimeout: 2, HealthyThreshold: 1, UnhealthyThreshold: 1,
    });
    answers = ['127.0.0.1'];
    await gaap.BindListenerRealServers({
      ListenerId: listenerId,
      RealServerBindSet: [
        { RealServerId: await realServer(name), RealServerIP: name, RealServerPort: 5353 },
        { RealServerId: await realServer(lost), RealServerIP: lost, RealServerPort: 5353 },
      ],
    });
    const state = async () => {
      const l = (await gaap.DescribeUDPListeners({ ListenerId: listenerId })).ListenerSet[0];
      return { bind: l.BindStatus, rs: Object.fromEntries(l.RealServerSet.map((r: any) => [r.RealServerIP, [r.RealServerStatus, r.DownIPList]])) };
    };
    await until(async () => (await state()).bind === 2, 'the unresolved name to give BindStatus 2');
    assert.deepEqual((await state()).rs, { [name]: [0, []], [lost]: [1, []] });
    lostResolves = true;
    await until(async () => (await state()).bind === 0, 'the name resolving again to make the listener normal');
    assert.deepEqual((await state()).rs, { [name]: [0, []], [lost]: [0, []] });
  });

  it('ClientIPMethod 1: the origin parses a PROXY v1 header naming the client\'s own address and port, then the client bytes intact', async () => {
    const { proxyId, ip } = await runningProxy(gaap, 'pp');
    const { listenerId, port } = await l4Listener(gaap, proxyId, 'TCP', { ListenerName: 'pp', ClientIPMethod: 1 });
    // An origin that reads the header as a PROXY-protocol server would: the line up to CRLF (at most 107 bytes), its six fields, then the stream.
    const parsed: Array<{ fields: string[]; rest: string }> = [];
    const reader = createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d) => (buf = Buffer.concat([buf, d])));
      s.on('end', () => {
        const eol = buf.indexOf('\r\n');
        assert.ok(eol > 0 && eol + 2 <= 107, 'the header line fits the v1 maximum');
        parsed.push({ fields: buf.subarray(0, eol).toString('ascii').split(' '), rest: buf.subarray(eol + 2).toString('latin1') });
        s.end();
      });
    });
    await new Promise<void>((r) => reader.listen(0, '127.0.0.1', r));
    try {
      await bindOrigins(gaap, await localRealServer(gaap, 'pp'), listenerId, [{ port: (reader.address() as { port: number }).port }]);
      await servedPort(server, proxyId, listenerId, 1);
      const payload = Buffer.alloc(200_000, 'PROXY TCP4 looks like a header\r\n');
      const clientPort = await new Promise<number>((res, rej) => {
        const c = connect({ host: ip, port, allowHalfOpen: true });
        let local = 0;
        c.on('connect', () => {
          local = c.localPort ?? 0;
          c.end(payload);
        });
        c.on('error', rej);
        c.on('data', () => undefined);
        c.on('close', () => res(local));
      });
      assert.equal(parsed.length, 1);
      assert.deepEqual(parsed[0].fields, ['PROXY', 'TCP4', '127.0.0.1', ip, String(clientPort), String(port)]);
      assert.equal(parsed[0].rest, payload.toString('latin1'), 'the client bytes follow the header unchanged');
    } finally {
      await new Promise<void>((r) => reader.close(() => r()));
    }
  });
});

describe('data plane: IPv6 proxies', () => {
  let server: RunningServer;
  let gaap: any;

  before(async () => {
    server = await startTclocal({ dataplaneFlushMs: 100 });
    gaap = cnClient('gaap', server);
  });
  after(() => server.stop());

  it('answer on ::1 (shared by every IPv6 proxy, so ports are mapped) and forward; the PROXY header names IPv6 addresses', async () => {
    const { InstanceId: proxyId } = await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'v6', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2, IPAddressVersion: 'IPv6' });
    const proxy = await until(async () => {
      const p = (await gaap.DescribeProxies({ ProxyIds: [proxyId] })).ProxySet[0];
      return p.Status === 'RUNNING' && p;
    }, 'the IPv6 proxy to run');
    assert.equal(proxy.IP, '::1');
    const { listenerId, port } = await l4Listener(gaap, proxyId, 'TCP', { ListenerName: 'v6', ClientIPMethod: 1 });
    const heads: string[] = [];
    const reader = createServer((s) => {
      let buf = '';
      s.on('data', (d) => (buf += d.toString('latin1')));
      s.on('end', () => {
        heads.push(buf.slice(0, buf.indexOf('\r\n')));
        s.end('v6-origin');
      });
    });
    await new Promise<void>((r) => reader.listen(0, '127.0.0.1', r));
    try {
      await bindOrigins(gaap, await localRealServer(gaap, 'v6'), listenerId, [{ port: (reader.address() as { port: number }).port }]);
      const served = await servedPort(server, proxyId, listenerId, 1);
      assert.equal((await boundListener(server, proxyId, listenerId))?.bound?.address, '::1');
      const local = await new Promise<number>((res, rej) => {
        const c = connect({ host: '::1', port: served, allowHalfOpen: true });
        let answer = '';
        let mine = 0;
        c.on('connect', () => {
          mine = c.localPort ?? 0;
          c.end('hello');
        });
        c.on('data', (d) => (answer += d));
        c.on('error', rej);
        c.on('close', () => (answer === 'v6-origin' ? res(mine) : rej(new Error(`answer: ${answer}`))));
      });
      assert.deepEqual(heads, [`PROXY TCP6 ::1 ::1 ${local} ${port}`]);
    } finally {
      await new Promise<void>((r) => reader.close(() => r()));
    }
  });
});

describe('data plane: a listener port the process may not bind moves by the port offset', () => {
  let child: ChildProcess;
  let url: string;
  let home: string;

  const cli = resolve(__dirname, '../../src/cli.js');
  const isRoot = process.getuid?.() === 0;
  // As root every port may be bound: the server runs as `nobody` where that user can read the checkout, so that the privileged-port path is taken wherever the suite runs.
  const nobody = { uid: 65534, gid: 65534 };
  const runAs = isRoot && spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(cli)})`], { ...nobody, stdio: 'ignore' }).status === 0 ? nobody : undefined;
  // Ports below this one need privileges (1024 unless the system lowered it; 0: every port is free to bind, and no offset is taken).
  const privilegedBelow = Math.min(1024, Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim() || 1024));
  // A privileged port, and an offset that puts it on a random high port.
  const low = privilegedBelow > 1 ? Math.max(1, privilegedBelow - 400) + Math.floor(Math.random() * Math.min(400, privilegedBelow - 1)) : 600;
  const offset = 20_000 + Math.floor(Math.random() * 30_000);
  const mayNotBind = privilegedBelow > 1 && (!isRoot || runAs !== undefined);
  const expected = mayNotBind ? low + offset : low;

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'tclocal-offset-'));
    chmodSync(home, 0o777);
    child = spawn(process.execPath, [
      cli, 'start', '--port', '0', '--dns-port', '0', '--in-memory', '--log-level', 'info', '--transition-ms', '0',
      '--ca-dir', join(home, 'ca'), '--dataplane-pool', `127.${randomOctet()}.${randomOctet()}.0/24`, '--dataplane-port-offset', String(offset),
    ], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, HOME: home }, ...(runAs ?? {}) });
    url = await new Promise<string>((res, rej) => {
      let text = '';
      child.stdout!.on('data', (d) => {
        text += d;
        const m = /"url":"(http:\/\/[^"]+)"/.exec(text);
        if (m) res(m[1]);
      });
      child.once('exit', (code) => rej(new Error(`tclocal exited with ${code}: ${text}`)));
    });
  });
  after(() => {
    child.kill('SIGTERM');
    rmSync(home, { recursive: true, force: true });
  });

  it(`binds a privileged listener port at port + offset where the server may not bind it (here: ${mayNotBind ? 'offset' : 'its own port'}), reports that port, and forwards through it`, async () => {
    const port = Number(new URL(url).port);
    const gaap = cnClient('gaap', { port });
    const origin = await tcpOrigin('LOW');
    try {
      const { proxyId, ip } = await runningProxy(gaap, 'low');
      const { listenerId } = await l4Listener(gaap, proxyId, 'TCP', { ListenerName: 'low', Ports: [low] });
      await bindOrigins(gaap, await localRealServer(gaap, 'o'), listenerId, [{ port: origin.port }]);
      const l = await until(async () => {
        const report: any = await (await fetch(`${url}/_tclocal/dataplane`)).json();
        for (const a of report.accounts) for (const p of a.proxies) if (p.proxyId === proxyId) return p.listeners.find((x: any) => x.listenerId === listenerId && x.bound);
        return undefined;
      }, 'the listener to be bound');
      assert.deepEqual(l.bound, { address: ip, port: expected });
      assert.equal(l.error, null);
      assert.equal(l.port, low, 'the configured port stays the listener\'s');
      assert.equal(await exchange(ip, expected, 'low'), 'LOW:low');
    } finally {
      await origin.close();
    }
  });
});
