import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { selfSigned } from '../../testkit/pem';
import { cnClient, startTclocal } from '../helpers';
import { boundListener, randomPort, until } from './fixtures';

const DOMAIN = 'caps.test';

/** An origin that answers `GET /bytes/N` with N bytes and any request with a body with the number of bytes it read. */
async function bulkOrigin(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    let read = 0;
    req.on('data', (d: Buffer) => (read += d.length));
    req.on('end', () => {
      const n = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
      if (n) {
        res.writeHead(200, { 'content-length': Number(n[1]) });
        res.end(Buffer.alloc(Number(n[1]), 7));
      } else res.end(String(read));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

interface Exchange {
  status: number;
  body: Buffer;
}

/** One request through a listener (HTTPS with the test's name as SNI, the certificate unchecked): its status and body. */
function send(scheme: 'HTTP' | 'HTTPS', ip: string, port: number, method: string, path: string, body?: Buffer): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const options = { host: ip, port, method, path, agent: false, headers: { host: DOMAIN, ...(body ? { 'content-length': body.length } : {}) } };
    const req = scheme === 'HTTP'
      ? httpRequest(options)
      : httpsRequest({ ...options, servername: DOMAIN, rejectUnauthorized: false });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A proxy of `bandwidth` Mbps with an HTTP and an HTTPS listener, each with a rule to the origin. */
async function proxyWithListeners(server: RunningServer, gaap: any, originPort: number, bandwidth: number) {
  const rsId = (await gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['127.0.0.1'], RealServerName: 'local' })).RealServerSet[0].RealServerId;
  const { InstanceId: proxyId } = await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'l7caps', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: bandwidth, Concurrent: 2 });
  const ip = (await gaap.DescribeProxies({ ProxyIds: [proxyId] })).ProxySet[0].IP;
  const pem = selfSigned(DOMAIN);
  const certId = (await gaap.CreateCertificate({ CertificateType: 2, CertificateContent: pem.cert, CertificateKey: pem.key, CertificateAlias: 'caps' })).CertificateId;
  const { ListenerId: httpL } = await gaap.CreateHTTPListener({ ProxyId: proxyId, ListenerName: 'web', Port: randomPort() });
  const { ListenerId: httpsL } = await gaap.CreateHTTPSListener({ ProxyId: proxyId, ListenerName: 'tls', Port: randomPort(), CertificateId: certId, ForwardProtocol: 'HTTP', AuthType: 0 });
  const ports: Record<'HTTP' | 'HTTPS', number> = { HTTP: 0, HTTPS: 0 };
  for (const [scheme, listenerId] of [['HTTP', httpL], ['HTTPS', httpsL]] as const) {
    const { RuleId } = await gaap.CreateRule({ ListenerId: listenerId, Domain: DOMAIN, Path: '/', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 0 });
    await gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: rsId, RealServerIP: '127.0.0.1', RealServerPort: originPort }] });
    ports[scheme] = (await until(async () => (await boundListener(server, proxyId, listenerId))?.bound ?? undefined, `the ${scheme} listener`)).port;
    await until(async () => (await send(scheme, ip, ports[scheme], 'GET', '/bytes/1')).status === 200, `the ${scheme} rule`);
  }
  return { ip, ports };
}

/** Seconds that `work` took. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

describe('data plane: Bandwidth on HTTP and HTTPS listeners', () => {
  let server: RunningServer;
  let gaap: any;
  let origin: { server: Server; port: number };
  let ip: string;
  let ports: Record<'HTTP' | 'HTTPS', number>;

  before(async () => {
    server = await startTclocal();
    gaap = cnClient('gaap', server);
    origin = await bulkOrigin();
    ({ ip, ports } = await proxyWithListeners(server, gaap, origin.port, 10));
  });
  after(async () => {
    await server.stop();
    origin.server.close();
  });

  // 10 Mbps = 1.25 MB/s per direction. 1.5 MB through each listener at once is 3 MB through the proxy:
  // not less than about 2.35 s (the 64 KiB bursts of both buckets aside) if the listeners share its buckets, half that if each had its own.

  it('answers through HTTP and HTTPS listeners of one proxy share its outbound bandwidth', async () => {
    const size = 1_500_000;
    const seconds = await timed(() => Promise.all((['HTTP', 'HTTPS'] as const).map(async (scheme) => {
      const a = await send(scheme, ip, ports[scheme], 'GET', `/bytes/${size}`);
      assert.equal(a.status, 200);
      assert.equal(a.body.length, size, `${scheme} answer length`);
    })));
    assert.ok(seconds >= 2.2, `3 MB of answers took ${seconds} s at 10 Mbps`);
  });

  it('request bodies through HTTP and HTTPS listeners of one proxy share its inbound bandwidth', async () => {
    const size = 1_500_000;
    const seconds = await timed(() => Promise.all((['HTTP', 'HTTPS'] as const).map(async (scheme) => {
      const a = await send(scheme, ip, ports[scheme], 'POST', '/upload', Buffer.alloc(size, 3));
      assert.equal(a.status, 200);
      assert.equal(a.body.toString(), String(size), `${scheme}: the origin read the whole body`);
    })));
    assert.ok(seconds >= 2.2, `3 MB of request bodies took ${seconds} s at 10 Mbps`);
  });

  it('with the caps off, HTTP and HTTPS transfers are not paced', async () => {
    const uncapped = await startTclocal({ dataplaneCaps: false });
    try {
      const free = await proxyWithListeners(uncapped, cnClient('gaap', uncapped), origin.port, 10);
      // 12 MB each way (6 MB per listener) would take at least 9.6 s per direction at 10 Mbps, over 19 s in all; loopback moves it far faster even on a busy machine.
      const size = 6_000_000;
      const seconds = await timed(() => Promise.all((['HTTP', 'HTTPS'] as const).map(async (scheme) => {
        assert.equal((await send(scheme, free.ip, free.ports[scheme], 'GET', `/bytes/${size}`)).body.length, size);
        assert.equal((await send(scheme, free.ip, free.ports[scheme], 'POST', '/upload', Buffer.alloc(size, 3))).body.toString(), String(size));
      })));
      assert.ok(seconds < 15, `12 MB each way took ${seconds} s with the caps off`);
    } finally {
      await uncapped.stop();
    }
  });
});
