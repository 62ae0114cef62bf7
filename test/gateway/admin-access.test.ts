/**
 * The admin access rule: every /_tclocal/ path answers only requests sent to
 * tclocal's own loopback name or address, never cross-site ones, and with
 * the admin token when one is required.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { ACCOUNT_A, cnClient, replay, startTclocal } from '../helpers';

const cert = (n: number) => ({ CertificateType: 0, CertificateContent: `user${n}:$apr1$abcdefgh$0123456789abcdefghijkl` });

async function certificateCount(server: RunningServer): Promise<number> {
  return (await cnClient('gaap', server, { account: ACCOUNT_A }).DescribeCertificates({})).TotalCount;
}

describe('admin access on loopback, lenient mode (no token)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
  });
  after(() => server.stop());

  it('a cross-site form post cannot reset the state', async () => {
    await cnClient('gaap', server, { account: ACCOUNT_A }).CreateCertificate(cert(1));
    const host = `127.0.0.1:${server.port}`;
    // What a page on another site can send without a preflight.
    const form = await replay(server, { method: 'POST', url: '/_tclocal/reset', headers: { host, origin: 'http://attacker.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'x=1' });
    assert.equal(form.status, 403, form.text);
    const plain = await replay(server, { method: 'POST', url: '/_tclocal/reset', headers: { host, 'content-type': 'text/plain' }, body: 'x' });
    assert.equal(plain.status, 415, plain.text);
    const nullOrigin = await replay(server, { method: 'POST', url: '/_tclocal/reset', headers: { host, origin: 'null' }, body: '' });
    assert.equal(nullOrigin.status, 403);
    const fetchSite = await replay(server, { method: 'POST', url: '/_tclocal/reset', headers: { host, 'sec-fetch-site': 'cross-site' }, body: '' });
    assert.equal(fetchSite.status, 403);
    const importText = await replay(server, { method: 'POST', url: '/_tclocal/state', headers: { host, 'content-type': 'text/plain' }, body: '{"format":"tclocal-state"}' });
    assert.equal(importText.status, 415);
    assert.equal(await certificateCount(server), 1);

    // tclocal's own origin with JSON (or no body) is served.
    const own = await replay(server, { method: 'POST', url: '/_tclocal/reset', headers: { host, origin: `http://localhost:${server.port}` }, body: '' });
    assert.equal(own.status, 200, own.text);
    assert.equal(await certificateCount(server), 0);
  });

  it('a rebound host name (DNS rebinding) cannot read the state, on any admin path', async () => {
    for (const host of [`attacker.example:${server.port}`, `127.0.0.1.nip.io:${server.port}`, `127.0.0.1:${server.port + 1}`, 'localhost']) {
      for (const url of ['/_tclocal/state', '/_tclocal/coverage', '/_tclocal/ui', '/_tclocal/requests']) {
        const r = await replay(server, { method: 'GET', url, headers: { host }, body: '' });
        assert.equal(r.status, 403, `${host} ${url}: ${r.status} ${r.text}`);
        assert.match(r.json.error, /Host/);
      }
    }
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `127.8.9.10:${server.port}`, `[::1]:${server.port}`]) {
      const r = await replay(server, { method: 'GET', url: '/_tclocal/state', headers: { host }, body: '' });
      assert.equal(r.status, 200, `${host}: ${r.text.slice(0, 200)}`);
    }
    // Readiness probes may use any name.
    const health = await replay(server, { method: 'GET', url: '/_tclocal/health', headers: { host: 'tclocal.internal:8080' }, body: '' });
    assert.equal(health.status, 200);
  });
});

describe('admin token', () => {
  it('strict authentication generates a token every admin call but health needs', async () => {
    const server = await startTclocal({ auth: 'strict', rateLimits: false });
    try {
      assert.equal(server.adminTokenGenerated, true);
      const token = server.adminToken!;
      assert.ok(token.length >= 24);
      const host = `127.0.0.1:${server.port}`;
      const without = await replay(server, { method: 'GET', url: '/_tclocal/state', headers: { host }, body: '' });
      assert.equal(without.status, 401);
      assert.match(without.json.error, /TCLOCAL_ADMIN_TOKEN/);
      const wrong = await replay(server, { method: 'POST', url: '/_tclocal/reset', headers: { host, authorization: `Bearer ${token}x` }, body: '' });
      assert.equal(wrong.status, 401);
      const bearer = await replay(server, { method: 'GET', url: '/_tclocal/state', headers: { host, authorization: `Bearer ${token}` }, body: '' });
      assert.equal(bearer.status, 200);
      assert.equal(bearer.json.format, 'tclocal-state');
      const header = await replay(server, { method: 'POST', url: '/_tclocal/transitions/advance', headers: { host, 'x-tclocal-admin-token': token }, body: '' });
      assert.equal(header.status, 200);
      const cookie = await replay(server, { method: 'GET', url: '/_tclocal/coverage', headers: { host, cookie: `theme=dark; tclocal_admin_token=${token}` }, body: '' });
      assert.equal(cookie.status, 200);
      assert.equal((await fetch(`${server.url}/_tclocal/health`)).status, 200);
    } finally {
      await server.stop();
    }
  });

  it('the setting requires it always, and a configured token is the one required', async () => {
    const always = await startTclocal({ adminTokenRequired: 'always' });
    try {
      assert.equal((await fetch(`${always.url}/_tclocal/state`)).status, 401);
      assert.equal((await fetch(`${always.url}/_tclocal/state`, { headers: { authorization: `Bearer ${always.adminToken}` } })).status, 200);
    } finally {
      await always.stop();
    }
    const chosen = await startTclocal({ adminToken: 'my-admin-token' });
    try {
      assert.equal(chosen.adminTokenGenerated, false);
      assert.equal((await fetch(`${chosen.url}/_tclocal/reset`, { method: 'POST' })).status, 401);
      assert.equal((await fetch(`${chosen.url}/_tclocal/reset`, { method: 'POST', headers: { authorization: 'Bearer my-admin-token' } })).status, 200);
    } finally {
      await chosen.stop();
    }
  });

  it('listening beyond loopback generates a token', async () => {
    const server = await startTclocal({ host: '0.0.0.0' });
    try {
      assert.equal(server.adminTokenGenerated, true);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/_tclocal/state`)).status, 401);
    } finally {
      await server.stop();
    }
  });
});
