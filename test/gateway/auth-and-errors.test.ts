/**
 * Signatures, tampering and the gateway's documented error codes. Tampered
 * requests are real SDK requests, captured and replayed with one part changed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { ACCOUNT_A, captureSdkRequest, cnClient, DEFAULT_ACCOUNT, errorCode, intlClient, replay, startTclocal } from '../helpers';

/** Runs `fn` with the clock of this process moved by `offsetMs` (capture only; the server is not called). */
async function withClockOffset<T>(offsetMs: number, fn: () => Promise<T>): Promise<T> {
  const now = Date.now;
  const getTime = Date.prototype.getTime;
  Date.now = () => now() + offsetMs;
  Date.prototype.getTime = function () {
    return getTime.call(this) + offsetMs;
  };
  try {
    return await fn();
  } finally {
    Date.now = now;
    Date.prototype.getTime = getTime;
  }
}

const code = (r: { json: any }) => r.json?.Response?.Error?.Code;

function assertEnvelope(r: { status: number; headers: Headers; json: any }) {
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.match(r.json.Response.RequestId, /^[0-9a-f-]{36}$/);
}

describe('authentication and gateway errors', () => {
  let server: RunningServer;
  let strict: RunningServer;
  before(async () => {
    server = await startTclocal();
    strict = await startTclocal({ auth: 'strict' });
  });
  after(async () => {
    await server.stop();
    await strict.stop();
  });

  const captureTc3 = (params: object = {}, account = DEFAULT_ACCOUNT) =>
    captureSdkRequest((port) => cnClient('gaap', { port }, { account }).DescribeAccessRegionsByDestRegion({ DestRegion: 'Hongkong', ...params }));
  const captureV1 = (account = DEFAULT_ACCOUNT) =>
    captureSdkRequest((port) => cnClient('gaap', { port }, { account, signMethod: 'HmacSHA256' }).DescribeAccessRegionsByDestRegion({ DestRegion: 'Hongkong' }));

  it('an untouched captured TC3 request verifies', async () => {
    const r = await replay(server, await captureTc3());
    assertEnvelope(r);
    assert.equal(code(r), undefined);
    assert.ok(r.json.Response.TotalCount > 0);
  });

  it('a TC3 body changed after signing fails with AuthFailure.SignatureFailure', async () => {
    const req = await captureTc3();
    req.body = Buffer.from(req.body.toString().replace('Hongkong', 'Japan'));
    const r = await replay(server, req);
    assertEnvelope(r);
    assert.equal(code(r), 'AuthFailure.SignatureFailure');
  });

  it('a signed header changed after signing fails with AuthFailure.SignatureFailure', async () => {
    const req = await captureTc3();
    req.headers['content-type'] = 'application/json; charset=utf-8';
    assert.equal(code(await replay(server, req)), 'AuthFailure.SignatureFailure');
  });

  it('a v1 parameter changed after signing fails with AuthFailure.SignatureFailure', async () => {
    const req = await captureV1();
    req.body = Buffer.from(req.body.toString().replace('Hongkong', 'Japan'));
    assert.equal(code(await replay(server, req)), 'AuthFailure.SignatureFailure');
  });

  it('a wrong SecretKey for a known SecretId fails, in TC3 and v1', async () => {
    const wrong = { ...ACCOUNT_A, secretKey: 'not-the-key' };
    assert.equal(await errorCode(cnClient('gaap', server, { account: wrong }).DescribeAccessRegions({})), 'AuthFailure.SignatureFailure');
    assert.equal(await errorCode(intlClient('gaap', server, { account: wrong }).DescribeAccessRegions({})), 'AuthFailure.SignatureFailure');
  });

  it('a TC3 signature over the host with its port and the real service (as the Python and Go SDKs sign) verifies', async () => {
    // A signer written from the API document's steps, independent of tclocal's verifier.
    const { createHash, createHmac } = await import('node:crypto');
    const sha = (x: string) => createHash('sha256').update(x).digest('hex');
    const hmac = (k: string | Buffer, x: string) => createHmac('sha256', k).update(x).digest();
    const body = '{"DestRegion":"Hongkong"}';
    const host = `127.0.0.1:${server.port}`;
    const ts = Math.floor(Date.now() / 1000);
    const date = new Date(ts * 1000).toISOString().slice(0, 10);
    const canonical = `POST\n/\n\ncontent-type:application/json\nhost:${host}\n\ncontent-type;host\n${sha(body)}`;
    const scope = `${date}/gaap/tc3_request`;
    const key = hmac(hmac(hmac(`TC3${DEFAULT_ACCOUNT.secretKey}`, date), 'gaap'), 'tc3_request');
    const signature = createHmac('sha256', key).update(`TC3-HMAC-SHA256\n${ts}\n${scope}\n${sha(canonical)}`).digest('hex');
    const headers = {
      host, 'content-type': 'application/json', 'x-tc-action': 'DescribeAccessRegionsByDestRegion', 'x-tc-version': '2018-05-29', 'x-tc-timestamp': String(ts),
      authorization: `TC3-HMAC-SHA256 Credential=${DEFAULT_ACCOUNT.secretId}/${scope}, SignedHeaders=content-type;host, Signature=${signature}`,
    };
    const ok = await replay(server, { method: 'POST', url: '/', headers, body });
    assert.equal(code(ok), undefined, JSON.stringify(ok.json));
    assert.ok(ok.json.Response.TotalCount > 0);
    const flipped = signature.slice(0, -1) + (signature.endsWith('0') ? '1' : '0');
    const bad = await replay(server, { method: 'POST', url: '/', headers: { ...headers, authorization: headers.authorization.replace(signature, flipped) }, body });
    assert.equal(code(bad), 'AuthFailure.SignatureFailure');
  });

  it('a timestamp more than 5 minutes off fails with AuthFailure.SignatureExpire, both ways', async () => {
    for (const offset of [-6 * 60_000, 6 * 60_000]) {
      const tc3 = await withClockOffset(offset, () => captureTc3());
      assert.equal(code(await replay(server, tc3)), 'AuthFailure.SignatureExpire');
      const v1 = await withClockOffset(offset, () => captureV1());
      assert.equal(code(await replay(server, v1)), 'AuthFailure.SignatureExpire');
    }
    // Four minutes off is still accepted.
    const recent = await withClockOffset(-4 * 60_000, () => captureTc3());
    assert.equal(code(await replay(server, recent)), undefined);
  });

  it('lenient mode gives an unknown SecretId its own tenant; strict mode refuses it', async () => {
    const stranger = { secretId: 'AKIDsomeoneElse', secretKey: 'anything', appId: 1, uin: '1' };
    const ok = await cnClient('gaap', server, { account: stranger }).DescribeAccessRegions({});
    assert.ok(ok.TotalCount > 0);
    assert.equal(await errorCode(cnClient('gaap', strict, { account: stranger }).DescribeAccessRegions({})), 'AuthFailure.SecretIdNotFound');
  });

  it('lenient mode serves an unsigned request as the default account; strict mode refuses it', async () => {
    const unsigned = {
      method: 'POST', url: '/', body: '{}',
      headers: { host: 'gaap.tencentcloudapi.com', 'content-type': 'application/json', 'x-tc-action': 'DescribeAccessRegions', 'x-tc-version': '2018-05-29' },
    };
    const r = await replay(server, unsigned);
    assertEnvelope(r);
    assert.ok(r.json.Response.TotalCount > 0);
    assert.equal(code(await replay(strict, unsigned)), 'AuthFailure.InvalidAuthorization');
    const get = await replay(server, { method: 'GET', url: '/?Action=DescribeAccessRegions&Version=2018-05-29', headers: { host: 'gaap.tencentcloudapi.com' }, body: '' });
    assert.ok(get.json.Response.TotalCount > 0);
  });

  it('a malformed Authorization fails with AuthFailure.InvalidAuthorization', async () => {
    const req = await captureTc3();
    req.headers.authorization = 'TC3-HMAC-SHA256 Credential=broken';
    assert.equal(code(await replay(server, req)), 'AuthFailure.InvalidAuthorization');
    req.headers.authorization = 'Basic dXNlcjpwYXNz';
    assert.equal(code(await replay(server, req)), 'AuthFailure.InvalidAuthorization');
  });

  it('missing common parameters fail with MissingParameter naming them', async () => {
    const base = { method: 'POST', url: '/', body: '{}', headers: { host: 'gaap.tencentcloudapi.com', 'content-type': 'application/json' } as Record<string, string> };
    let r = await replay(server, { ...base, headers: { ...base.headers, 'x-tc-version': '2018-05-29' } });
    assert.equal(code(r), 'MissingParameter');
    assert.match(r.json.Response.Error.Message, /Action/);
    r = await replay(server, { ...base, headers: { ...base.headers, 'x-tc-action': 'DescribeAccessRegions' } });
    assert.equal(code(r), 'MissingParameter');
    assert.match(r.json.Response.Error.Message, /Version/);
  });

  it('routing errors: NoSuchProduct, InvalidAction, NoSuchVersion', async () => {
    const call = (host: string, action: string, version: string) =>
      replay(server, { method: 'POST', url: '/', body: '{}', headers: { host, 'content-type': 'application/json', 'x-tc-action': action, 'x-tc-version': version } });
    assert.equal(code(await call('cvm.tencentcloudapi.com', 'DescribeInstances', '2017-03-12')), 'NoSuchProduct');
    assert.equal(code(await call('gaap.tencentcloudapi.com', 'DescribeNothing', '2018-05-29')), 'InvalidAction');
    assert.equal(code(await call('gaap.tencentcloudapi.com', 'DescribeAccessRegions', '2017-01-01')), 'NoSuchVersion');
    // Without a telling host, (Version, Action) picks the service.
    assert.equal(code(await call('127.0.0.1', 'DescribeAccessRegions', '2018-05-29')), undefined);
    assert.equal(code(await call('127.0.0.1', 'DescribeAccessRegions', '1999-01-01')), 'NoSuchVersion');
    assert.equal(code(await call('gaap.ap-guangzhou.tencentcloudapi.com', 'DescribeAccessRegions', '2018-05-29')), undefined);
  });

  it('other methods and content types fail with UnsupportedProtocol', async () => {
    const headers = { host: 'gaap.tencentcloudapi.com', 'content-type': 'application/json', 'x-tc-action': 'DescribeAccessRegions', 'x-tc-version': '2018-05-29' };
    const put = await replay(server, { method: 'PUT', url: '/', body: '{}', headers });
    assertEnvelope(put);
    assert.equal(code(put), 'UnsupportedProtocol');
    assert.equal(code(await replay(server, { method: 'POST', url: '/', body: 'x', headers: { ...headers, 'content-type': 'text/plain' } })), 'UnsupportedProtocol');
  });

  it('requests over the documented sizes fail with RequestSizeLimitExceeded', async () => {
    const headers = { host: 'gaap.tencentcloudapi.com', 'x-tc-action': 'DescribeAccessRegions', 'x-tc-version': '2018-05-29' };
    const bigGet = await replay(server, { method: 'GET', url: `/?Action=DescribeAccessRegions&Version=2018-05-29&Pad=${'x'.repeat(33 * 1024)}`, headers, body: '' });
    assert.equal(code(bigGet), 'RequestSizeLimitExceeded');
    const bigForm = await replay(server, { method: 'POST', url: '/', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: `Action=DescribeAccessRegions&Version=2018-05-29&Pad=${'x'.repeat(1024 * 1024)}` });
    assert.equal(code(bigForm), 'RequestSizeLimitExceeded');
    const bigJson = await replay(server, { method: 'POST', url: '/', headers: { ...headers, 'content-type': 'application/json' }, body: `{"Pad":"${'x'.repeat(10 * 1024 * 1024)}"}` });
    assertEnvelope(bigJson);
    assert.equal(code(bigJson), 'RequestSizeLimitExceeded');
    // A 2 MB JSON body is within the TC3 limit: it reaches validation.
    const mid = await replay(server, { method: 'POST', url: '/', headers: { ...headers, 'content-type': 'application/json' }, body: `{"Pad":"${'x'.repeat(2 * 1024 * 1024)}"}` });
    assert.equal(code(mid), 'UnknownParameter');
  });

  it('the documented rate limit answers RequestLimitExceeded; off disables it', async () => {
    const client = cnClient('gaap', server, { account: ACCOUNT_A });
    const results = await Promise.allSettled(Array.from({ length: 45 }, () => client.DescribeDestRegions({})));
    const limited = results.filter((r) => r.status === 'rejected' && (r.reason as any).code === 'RequestLimitExceeded').length;
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    assert.ok(limited >= 5, `expected some calls limited, got ${limited}`);
    // The message says how to turn rate limits off for local testing.
    const rejected = results.find((r) => r.status === 'rejected' && (r.reason as any).code === 'RequestLimitExceeded') as PromiseRejectedResult;
    assert.match(rejected.reason.message, /--rate-limits off \(TCLOCAL_RATE_LIMITS=off\)/);
    assert.ok(ok <= 40 && ok >= 20, `at most 20 per second may pass, got ${ok}`);
    // Another account has its own budget.
    assert.ok((await cnClient('gaap', server).DescribeDestRegions({})).TotalCount > 0);

    const free = await startTclocal({ rateLimits: false });
    try {
      const c = cnClient('gaap', free);
      const all = await Promise.allSettled(Array.from({ length: 45 }, () => c.DescribeDestRegions({})));
      assert.equal(all.filter((r) => r.status === 'rejected').length, 0);
    } finally {
      await free.stop();
    }
  });

  it('parameters are validated against the spec before any handler runs', async () => {
    const c = cnClient('gaap', server);
    let e = await c.DescribeAccessRegionsByDestRegion({ DestRegion: 'Hongkong', Bogus: 1 }).catch((x: any) => x);
    assert.equal(e.code, 'UnknownParameter');
    assert.match(e.message, /Bogus/);
    e = await c.DescribeAccessRegionsByDestRegion({ DestRegion: ['Hongkong'] }).catch((x: any) => x);
    assert.equal(e.code, 'InvalidParameter');
    assert.match(e.message, /DestRegion.*String/);
    // Numeric strings where a number is expected are accepted, as the doc's examples send them.
    const raw = await replay(server, {
      method: 'POST', url: '/', body: JSON.stringify({ Bandwidth: '10', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Concurrent: '2' }),
      headers: { host: 'gaap.tencentcloudapi.com', 'content-type': 'application/json', 'x-tc-action': 'InquiryPriceCreateProxy', 'x-tc-version': '2018-05-29' },
    });
    assert.equal(code(raw), undefined, JSON.stringify(raw.json));
    const bad = await replay(server, {
      method: 'POST', url: '/', body: JSON.stringify({ Bandwidth: 'ten', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Concurrent: 2 }),
      headers: { host: 'gaap.tencentcloudapi.com', 'content-type': 'application/json', 'x-tc-action': 'InquiryPriceCreateProxy', 'x-tc-version': '2018-05-29' },
    });
    assert.equal(code(bad), 'InvalidParameter');
    assert.match(bad.json.Response.Error.Message, /Bandwidth.*Integer/);
  });

  it('health reports ready with services and version', async () => {
    const res = await fetch(`${server.url}/_tclocal/health`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.equal(body.status, 'ready');
    assert.ok(body.services.includes('gaap'));
    assert.equal(typeof body.version, 'string');
  });
});
