import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { RunningServer } from '../../src/server';
import { cnClient, startTclocal } from '../helpers';
import { issuedBy, selfSigned } from '../../testkit/pem';
import { localRealServer, runningProxy, servedPort } from '../support/running-proxy';
import { dataplaneReport, randomPort, until } from './fixtures';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTPS request through the proxy (the proxy's certificate is not checked), optionally with basic credentials. */
function ask(ip: string, port: number, host: string, path = '/', credentials?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host };
    if (credentials) headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    const req = httpsRequest({ host: ip, port, path, servername: host, headers, agent: false, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The TLS version a handshake with `servername` got, or REFUSED. */
function handshake(ip: string, port: number, servername: string, o: { min?: 'TLSv1.2' | 'TLSv1.3'; max?: 'TLSv1.2' | 'TLSv1.3'; ciphers?: string } = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: ip, port, servername, rejectUnauthorized: false, minVersion: o.min, maxVersion: o.max, ciphers: o.ciphers }, () => {
      const got = s.getProtocol() ?? '';
      s.destroy();
      resolve(got);
    });
    s.on('error', () => resolve('REFUSED'));
  });
}

describe('data plane: HTTPS authentication and per-domain TLS', () => {
  let server: RunningServer;
  let gaap: any;
  let origin: Server;
  let originPort: number;
  let rsId: string;

  before(async () => {
    server = await startTclocal({ dataplaneFlushMs: 100, dataplaneHttpTimeoutMs: 2000, dataplaneCheckScale: 0.02, rateLimits: false });
    gaap = cnClient('gaap', server);
    origin = createServer((req, res) => res.end(JSON.stringify({ url: req.url, authorization: req.headers.authorization ?? null })));
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originPort = (origin.address() as { port: number }).port;
    rsId = await localRealServer(gaap);
  });
  after(async () => {
    await server.stop();
    origin.closeAllConnections();
    origin.close();
  });

  async function certificate(type: number, pem: { cert: string; key?: string }, alias: string): Promise<string> {
    return (await gaap.CreateCertificate({ CertificateType: type, CertificateContent: pem.cert, ...(pem.key ? { CertificateKey: pem.key } : {}), CertificateAlias: alias })).CertificateId;
  }

  /** An HTTPS listener on a new proxy, serving `domains` (each with its own rule to `ports[domain]`). */
  async function httpsListener(serverCert: { cert: string; key: string }, domains: Record<string, { port: number; protocol?: 'HTTP' | 'HTTPS'; sni?: string }>, extra: Record<string, unknown> = {}) {
    const { proxyId, ip } = await runningProxy(gaap, 'auth');
    const certId = await certificate(2, serverCert, 'server');
    const { ListenerId } = await gaap.CreateHTTPSListener({ ProxyId: proxyId, ListenerName: 'tls', Port: randomPort(), CertificateId: certId, ForwardProtocol: 'HTTP', AuthType: 0, ...extra });
    const port = await servedPort(server, proxyId, ListenerId);
    for (const [domain, o] of Object.entries(domains)) {
      await gaap.CreateDomain({ ListenerId, Domain: domain });
      const { RuleId } = await gaap.CreateRule({
        ListenerId, Domain: domain, Path: '/', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 0, ForwardProtocol: o.protocol ?? 'HTTP',
        ...(o.sni ? { ServerNameIndicationSwitch: 'ON', ServerNameIndication: o.sni } : {}),
      });
      await gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: rsId, RealServerIP: '127.0.0.1', RealServerPort: o.port, RealServerWeight: 1 }] });
    }
    return { proxyId, ip, port, listenerId: ListenerId as string };
  }

  it('BasicAuth lets in the users of the file (htpasswd and openssl passwd hashes) and answers 401 with a challenge to others', async () => {
    const line = (flags: string[], user: string, pw: string) => execFileSync('htpasswd', ['-nb', ...flags, user, pw]).toString().trim();
    const md5 = execFileSync('openssl', ['passwd', '-1', 'tux-pw']).toString().trim();
    const file = [line(['-B', '-C', '4'], 'alice', 'alice-pw'), line(['-m'], 'bob', 'bob-pw'), line(['-5'], 'carol', 'carol-pw'), `tux:${md5}`].join('\n');
    const fileId = await certificate(0, { cert: encodeURIComponent(file) }, 'users');
    const l = await httpsListener(selfSigned('basic.test', { sans: ['basic.test', 'open.test'] }), { 'basic.test': { port: originPort }, 'open.test': { port: originPort } });
    await until(async () => (await ask(l.ip, l.port, 'basic.test')).status === 200, 'the rule');
    await gaap.SetAuthentication({ ListenerId: l.listenerId, Domain: 'basic.test', BasicAuth: 1, BasicAuthConfId: fileId });
    const refused = await until(async () => {
      const a = await ask(l.ip, l.port, 'basic.test', '/private');
      return a.status === 401 ? a : undefined;
    }, 'basic authentication to apply');
    assert.equal(refused.headers['www-authenticate'], 'Basic realm="basic.test", charset="UTF-8"');
    assert.equal((await ask(l.ip, l.port, 'basic.test', '/', 'alice:wrong')).status, 401);
    assert.equal((await ask(l.ip, l.port, 'basic.test', '/', 'mallory:alice-pw')).status, 401);
    assert.equal((await ask(l.ip, l.port, 'basic.test', '/', 'bob:alice-pw')).status, 401);
    for (const user of ['alice', 'bob', 'carol', 'tux']) {
      const a = await ask(l.ip, l.port, 'basic.test', `/${user}`, `${user}:${user}-pw`);
      assert.equal(a.status, 200, user);
      assert.equal(JSON.parse(a.body).url, `/${user}`);
    }
    // Twice, so that a remembered verdict is read too.
    assert.equal((await ask(l.ip, l.port, 'basic.test', '/', 'alice:alice-pw')).status, 200);
    assert.equal((await ask(l.ip, l.port, 'basic.test', '/', 'alice:wrong')).status, 401);
    // A WebSocket upgrade without credentials is refused the same way.
    const upgrade = () => new Promise<string>((resolve) => {
      const s = tlsConnect({ host: l.ip, port: l.port, servername: 'basic.test', rejectUnauthorized: false }, () => {
        s.write('GET /ws HTTP/1.1\r\nHost: basic.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      });
      let text = '';
      s.on('data', (d) => (text += d.toString()));
      s.on('end', () => resolve(text));
      s.on('error', () => resolve(text));
    });
    assert.match(await upgrade(), /^HTTP\/1\.1 401 [^]*\r\nWWW-Authenticate: Basic realm="basic\.test"/);
    // The domain's error page for 401 gives the body; the challenge stays.
    await gaap.CreateDomainErrorPageInfo({ ListenerId: l.listenerId, Domain: 'basic.test', ErrorNos: [401], Body: '<p>sign in</p>' });
    const paged = await until(async () => {
      const a = await ask(l.ip, l.port, 'basic.test');
      return a.body === '<p>sign in</p>' ? a : undefined;
    }, 'the error page for 401');
    assert.equal(paged.status, 401);
    assert.match(String(paged.headers['www-authenticate']), /^Basic realm="basic\.test"/);
    // An upgrade request refused the same way gets the same page.
    const pagedUpgrade = await upgrade();
    assert.match(pagedUpgrade, /^HTTP\/1\.1 401 [^]*\r\nwww-authenticate: Basic realm="basic\.test"/i);
    assert.ok(pagedUpgrade.endsWith('\r\n\r\n<p>sign in</p>'), pagedUpgrade);
    // The other domain of the listener asks for nothing.
    assert.equal((await ask(l.ip, l.port, 'open.test')).status, 200);
    await gaap.SetAuthentication({ ListenerId: l.listenerId, Domain: 'basic.test', BasicAuth: 0 });
    await until(async () => (await ask(l.ip, l.port, 'basic.test')).status === 200, 'basic authentication to be switched off');
  });

  it('RealServerAuth verifies the origin certificate against the origin CAs; GaapAuth presents the PROXY certificate to the origin', async () => {
    const originCa = selfSigned('Origin CA', { sans: [], ca: true });
    const strangerCa = selfSigned('Stranger CA', { sans: [], ca: true });
    const proxyCa = selfSigned('Proxy CA', { sans: [], ca: true });
    const originPem = issuedBy(originCa, 'origin.test', { sans: ['origin.test'] });
    const gaapPem = issuedBy(proxyCa, 'gaap-proxy');
    // A TLS origin that asks for a client certificate and tells what it saw.
    const tlsOrigin = createHttpsServer({ cert: originPem.cert, key: originPem.key, requestCert: true, rejectUnauthorized: false, ca: [proxyCa.cert] }, (req, res) => {
      const s = req.socket as TLSSocket;
      const peer = s.getPeerCertificate();
      res.end(JSON.stringify({ client: peer?.subject?.CN ?? null, authorized: s.authorized }));
    });
    await new Promise<void>((resolve) => tlsOrigin.listen(0, '127.0.0.1', resolve));
    try {
      const tlsPort = (tlsOrigin.address() as { port: number }).port;
      const originCaId = await certificate(3, originCa, 'origin-ca');
      const strangerCaId = await certificate(3, strangerCa, 'stranger-ca');
      const gaapId = await certificate(4, gaapPem, 'gaap');
      const l = await httpsListener(selfSigned('front.test', { sans: ['*.test'] }), {
        'ok.test': { port: tlsPort, protocol: 'HTTPS', sni: 'origin.test' },
        'bad.test': { port: tlsPort, protocol: 'HTTPS', sni: 'origin.test' },
        'name.test': { port: tlsPort, protocol: 'HTTPS', sni: 'origin.test' },
        // No SNI and no RealServerCertificateDomain: the certificate is verified for the client's Host.
        'origin.test': { port: tlsPort, protocol: 'HTTPS' },
        'hostname.test': { port: tlsPort, protocol: 'HTTPS' },
      });
      // Without authentication settings nothing is verified and no client certificate is sent.
      const plain = await until(async () => {
        const a = await ask(l.ip, l.port, 'ok.test');
        return a.status === 200 ? JSON.parse(a.body) : undefined;
      }, 'the TLS origin');
      assert.deepEqual(plain, { client: null, authorized: false });

      await gaap.SetAuthentication({ ListenerId: l.listenerId, Domain: 'ok.test', RealServerAuth: 1, PolyRealServerCertificateIds: [originCaId], GaapAuth: 1, GaapCertificateId: gaapId });
      await gaap.SetAuthentication({ ListenerId: l.listenerId, Domain: 'bad.test', RealServerAuth: 1, RealServerCertificateId: strangerCaId });
      await gaap.SetAuthentication({ ListenerId: l.listenerId, Domain: 'name.test', RealServerAuth: 1, RealServerCertificateId: originCaId, RealServerCertificateDomain: 'other.test' });
      const seen = await until(async () => {
        const a = await ask(l.ip, l.port, 'ok.test');
        return a.status === 200 && JSON.parse(a.body).client ? JSON.parse(a.body) : undefined;
      }, 'the GAAP certificate to reach the origin');
      assert.deepEqual(seen, { client: 'gaap-proxy', authorized: true });

      const untrusted = await until(async () => {
        const a = await ask(l.ip, l.port, 'bad.test');
        return a.status === 502 ? a : undefined;
      }, 'an origin of another CA to be refused');
      assert.match(untrusted.body, /certificate could not be verified/);
      const misnamed = await until(async () => {
        const a = await ask(l.ip, l.port, 'name.test');
        return a.status === 502 ? a : undefined;
      }, 'an origin certificate of another name to be refused');
      assert.match(misnamed.body, /certificate could not be verified \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
      // The verified domain still works after the others failed on the same origin.
      assert.equal((await ask(l.ip, l.port, 'ok.test')).status, 200);

      for (const d of ['origin.test', 'hostname.test']) await gaap.SetAuthentication({ ListenerId: l.listenerId, Domain: d, RealServerAuth: 1, RealServerCertificateId: originCaId });
      await until(async () => (await ask(l.ip, l.port, 'hostname.test')).status === 502, 'a Host the origin certificate does not name to be refused');
      assert.match((await ask(l.ip, l.port, 'hostname.test')).body, /ERR_TLS_CERT_ALTNAME_INVALID/);
      assert.equal((await ask(l.ip, l.port, 'origin.test')).status, 200, 'the Host the certificate names is verified');
    } finally {
      tlsOrigin.closeAllConnections();
      tlsOrigin.close();
    }
  });

  it('a domain TLS versions and ciphers (SetAuthentication) apply to handshakes for its name; changes reach new handshakes only', async () => {
    const l = await httpsListener(selfSigned('tls.test', { sans: ['*.tls.test'] }), {
      'a.tls.test': { port: originPort }, 'b.tls.test': { port: originPort }, 'c.tls.test': { port: originPort },
    });
    await until(async () => (await ask(l.ip, l.port, 'a.tls.test')).status === 200, 'the rules');
    await gaap.SetAuthentication({ ListenerId: l.listenerId, Domain: 'b.tls.test', TLSSupportVersion: ['TLSv1.3'] });
    await gaap.SetAuthentication({ ListenerId: l.listenerId, Domain: 'c.tls.test', TLSSupportVersion: ['TLSv1.2'], TLSCiphers: 'GAAP_TLS_CIPHERS_STRICT' });
    await until(async () => (await handshake(l.ip, l.port, 'b.tls.test', { max: 'TLSv1.2' })) === 'REFUSED', 'TLS 1.2 to be refused for b');
    assert.equal(await handshake(l.ip, l.port, 'b.tls.test'), 'TLSv1.3');
    assert.equal(await handshake(l.ip, l.port, 'a.tls.test', { max: 'TLSv1.2' }), 'TLSv1.2', 'the listener settings apply to the other names');
    assert.equal(await handshake(l.ip, l.port, 'c.tls.test', { min: 'TLSv1.3' }), 'REFUSED');
    assert.equal(await handshake(l.ip, l.port, 'c.tls.test'), 'TLSv1.2');
    // A CBC suite: the WIDE profile (the listener's) offers it, STRICT does not.
    const cbc = { max: 'TLSv1.2' as const, ciphers: 'ECDHE-ECDSA-AES128-SHA' };
    assert.equal(await handshake(l.ip, l.port, 'a.tls.test', cbc), 'TLSv1.2');
    assert.equal(await handshake(l.ip, l.port, 'c.tls.test', cbc), 'REFUSED');
    // Bytes that are no ClientHello end the connection and nothing else.
    const closed = await new Promise<boolean>((resolve) => {
      const s = connect({ host: l.ip, port: l.port }, () => s.write('GET / HTTP/1.1\r\nHost: a.tls.test\r\n\r\n'));
      s.on('data', () => undefined);
      s.on('error', () => undefined);
      s.on('close', () => resolve(true));
    });
    assert.ok(closed);
    assert.equal(await handshake(l.ip, l.port, 'a.tls.test'), 'TLSv1.3');

    // An established connection keeps its TLS 1.3 session across the change to TLS 1.2 only.
    const held = tlsConnect({ host: l.ip, port: l.port, servername: 'b.tls.test', rejectUnauthorized: false });
    await new Promise((resolve) => held.once('secureConnect', resolve));
    assert.equal(held.getProtocol(), 'TLSv1.3');
    await gaap.SetAuthentication({ ListenerId: l.listenerId, Domain: 'b.tls.test', TLSSupportVersion: ['TLSv1.2'] });
    await until(async () => (await handshake(l.ip, l.port, 'b.tls.test', { min: 'TLSv1.3' })) === 'REFUSED', 'TLS 1.3 to be refused for b');
    assert.equal(await handshake(l.ip, l.port, 'b.tls.test'), 'TLSv1.2');
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      held.on('data', (d) => (text += d.toString()));
      held.on('end', () => resolve(text));
      held.write('GET /held HTTP/1.1\r\nHost: b.tls.test\r\nConnection: close\r\n\r\n');
    });
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.match(answer, /"url":"\/held"/);

    // The listener's own settings (SetTlsVersion) reach the names without settings of their own, not the others.
    await gaap.SetTlsVersion({ ListenerId: l.listenerId, TLSSupportVersion: ['TLSv1.3'], TLSCiphers: 'GAAP_TLS_CIPHERS_GENERAL' });
    await until(async () => (await handshake(l.ip, l.port, 'a.tls.test', { max: 'TLSv1.2' })) === 'REFUSED', 'the listener versions to reach a');
    assert.equal(await handshake(l.ip, l.port, 'a.tls.test'), 'TLSv1.3');
    assert.equal(await handshake(l.ip, l.port, 'c.tls.test'), 'TLSv1.2');
    assert.equal(await handshake(l.ip, l.port, 'b.tls.test'), 'TLSv1.2');
  });

  it('a domain client CAs apply to clients that name it (AuthType 1)', async () => {
    const listenerCa = selfSigned('Listener CA', { sans: [], ca: true });
    const domainCa = selfSigned('Domain CA', { sans: [], ca: true });
    const listenerClient = issuedBy(listenerCa, 'listener-client');
    const domainClient = issuedBy(domainCa, 'domain-client');
    const listenerCaId = await certificate(1, listenerCa, 'listener-ca');
    const domainCaId = await certificate(1, domainCa, 'domain-ca');
    const l = await httpsListener(selfSigned('m.test', { sans: ['*.m.test'] }), { 'a.m.test': { port: originPort } }, { AuthType: 1, PolyClientCertificateIds: [listenerCaId] });
    await gaap.CreateDomain({ ListenerId: l.listenerId, Domain: 'own.m.test', PolyClientCertificateIds: [domainCaId] });
    const { RuleId } = await gaap.CreateRule({ ListenerId: l.listenerId, Domain: 'own.m.test', Path: '/', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 0 });
    await gaap.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: rsId, RealServerIP: '127.0.0.1', RealServerPort: originPort, RealServerWeight: 1 }] });
    const get = (servername: string, client: { cert: string; key: string }) => new Promise<string>((resolve) => {
      const s = tlsConnect({ host: l.ip, port: l.port, servername, rejectUnauthorized: false, ...client }, () => {
        s.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
      });
      let text = '';
      s.on('data', (d) => (text += d.toString()));
      s.on('end', () => resolve(text.startsWith('HTTP/1.1 200') ? 'OK' : 'REFUSED'));
      s.on('error', () => resolve('REFUSED'));
    });
    await until(async () => (await get('own.m.test', domainClient)) === 'OK', 'the domain CA');
    assert.equal(await get('own.m.test', listenerClient), 'REFUSED');
    assert.equal(await get('a.m.test', listenerClient), 'OK');
    assert.equal(await get('a.m.test', domainClient), 'REFUSED');
  });

  it('Http3Supported holds the UDP port of the listener, answers nothing on it, and frees it with the listener', async () => {
    const l = await httpsListener(selfSigned('h3.test'), { 'h3.test': { port: originPort } }, { Http3Supported: 1 });
    const h3 = await until(async () => {
      const report = await dataplaneReport(server);
      for (const a of report.accounts) for (const p of a.proxies) for (const x of p.listeners) if (x.listenerId === l.listenerId && x.http3?.bound) return x.http3.bound;
      return undefined;
    }, 'the UDP port to be held');
    assert.deepEqual(h3, { address: l.ip, port: l.port });
    const tryBind = () => new Promise<string>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', (err: NodeJS.ErrnoException) => {
        s.close();
        resolve(err.code ?? 'error');
      });
      s.bind({ address: l.ip, port: l.port, exclusive: true }, () => s.close(() => resolve('BOUND')));
    });
    assert.equal(await tryBind(), 'EADDRINUSE');
    // A QUIC client's first datagram gets no answer.
    const client = createSocket('udp4');
    const answered = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      client.on('message', () => {
        clearTimeout(timer);
        resolve(true);
      });
      client.send(Buffer.alloc(1200, 0xc3), l.port, l.ip);
    });
    client.close();
    assert.equal(answered, false);
    assert.equal((await ask(l.ip, l.port, 'h3.test')).status, 200, 'HTTPS over TCP is served as usual');
    await gaap.DeleteListeners({ ListenerIds: [l.listenerId], Force: 1, ProxyId: l.proxyId });
    await until(async () => (await tryBind()) === 'BOUND', 'the UDP port to be freed');
  });
});
