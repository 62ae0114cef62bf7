/** Operator endpoints under /_tclocal/. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { ACCOUNT_A, captureSdkRequest, cnClient, replay, startTclocal } from '../helpers';

describe('admin endpoints', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
  });
  after(() => server.stop());

  const cert = (n: number) => ({ CertificateType: 0, CertificateContent: `user${n}:$apr1$abcdefgh$0123456789abcdefghijkl` });

  it('state export and import move everything; reset empties every account', async () => {
    const a = cnClient('gaap', server, { account: ACCOUNT_A });
    const { CertificateId } = await a.CreateCertificate(cert(1));
    const exported = (await (await fetch(`${server.url}/_tclocal/state`)).json()) as any;
    assert.equal(exported.format, 'tclocal-state');

    const reset = await fetch(`${server.url}/_tclocal/reset`, { method: 'POST' });
    assert.equal(reset.status, 200);
    assert.equal((await a.DescribeCertificates({})).TotalCount, 0);

    const imported = await fetch(`${server.url}/_tclocal/state`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(exported) });
    assert.equal(imported.status, 200);
    const detail = await a.DescribeCertificateDetail({ CertificateId });
    assert.equal(detail.CertificateDetail.CertificateId, CertificateId);

    // Exports of large accounts pass the API's 10 MB body limit; the admin endpoint still takes them.
    await fetch(`${server.url}/_tclocal/reset`, { method: 'POST' });
    const large = await fetch(`${server.url}/_tclocal/state`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(exported) + ' '.repeat(12 * 1024 * 1024) });
    assert.equal(large.status, 200, await large.clone().text());
    assert.equal((await a.DescribeCertificates({})).TotalCount, 1);

    const bad = await fetch(`${server.url}/_tclocal/state`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"not":"an export"}' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as any).error, /tclocal-state/);
  });

  it('an unknown admin path is a plain 404 listing the endpoints', async () => {
    const res = await fetch(`${server.url}/_tclocal/nothing`);
    assert.equal(res.status, 404);
    assert.ok(((await res.json()) as any).endpoints.includes('GET /_tclocal/health'));
  });

  it('coverage lists every emulated product', async () => {
    const res = (await (await fetch(`${server.url}/_tclocal/coverage`)).json()) as any;
    assert.deepEqual(res.services.map((s: any) => s.service).sort(), ['ams', 'gaap', 'ssl', 'tag']);
  });

  it('a Host header carrying a scheme (as tccli sends it) still verifies', async () => {
    const req = await captureSdkRequest((port) => cnClient('gaap', { port }).DescribeDestRegions({}));
    req.headers.host = `http://${req.headers.host}`;
    const r = await replay(server, req);
    assert.equal(r.json.Response.Error, undefined, JSON.stringify(r.json));
  });
});
