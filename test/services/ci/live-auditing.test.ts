/**
 * Cloud Infinite live-stream moderation, end to end through the official
 * cos-nodejs-sdk-v5: submit, query and cancel over the COS-style XML
 * protocol, with real q-sign signatures.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import type { RunningServer } from '../../../src/server';
import { ACCOUNT_A, ACCOUNT_B, captureSdkRequest, DEFAULT_ACCOUNT, MANUAL_TRANSITIONS, replay, startTclocal } from '../../helpers';
import { call, ciClient, COS, cosError, liveRequest } from '../../../testkit/cos-client';
import { inOneSecond } from '../../support/one-second';

const JOB_ID = /^av[0-9a-f]{32}$/;
const CREATION_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0800$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every CI answer carries these headers, errors included. */
function assertCiHeaders(headers: Record<string, string>, requestId?: string) {
  assert.equal(headers['content-type'], 'application/xml');
  assert.ok(headers['x-ci-request-id'], 'x-ci-request-id header');
  assert.ok(!Number.isNaN(Date.parse(headers.date)), 'Date header');
  if (requestId !== undefined) assert.equal(headers['x-ci-request-id'], requestId);
}

/** The cancel answer has exactly the seed's nodes (plus State), in order. */
function assertCancelShape(data: any, jobId: string, dataId: string) {
  assert.deepEqual(Object.keys(data.Response), ['JobsDetail', 'RequestId']);
  const d = data.Response.JobsDetail;
  assert.deepEqual(Object.keys(d), ['DataId', 'JobId', 'CreationTime', 'State']);
  assert.equal(d.JobId, jobId);
  assert.equal(d.DataId, dataId);
  assert.match(d.CreationTime, CREATION_TIME);
  assert.equal(data.Response.RequestId, data.headers['x-ci-request-id']);
  assertCiHeaders(data.headers);
}

/** The error document: `<Error><Code/><Message/><RequestId/><TraceId/></Error>`. */
function assertErrorShape(err: any, code: string, status: number) {
  assert.equal(err.code, code, err.message);
  assert.equal(err.statusCode, status);
  assert.deepEqual(Object.keys(err.error), ['Code', 'Message', 'RequestId', 'TraceId']);
  assert.ok(err.error.Message.length > 0);
  assertCiHeaders(err.headers, err.error.RequestId);
}

/** A signed request, written by the SDK, captured before it reaches tclocal. */
async function captureCi(account: typeof ACCOUNT_A, method: string, path: string, body?: string) {
  return captureSdkRequest(async (port) => {
    const c = ciClient({ port, account });
    await call(c.cos, { Bucket: c.bucket, Region: c.region, Method: method, Url: `http://${c.host}${path}`, Key: path, Body: body, ContentType: body ? 'application/xml' : undefined });
  });
}

describe('CI live moderation through cos-nodejs-sdk-v5', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
  });
  after(async () => {
    await server.stop();
  });

  it('submits a live_video job, queries it and cancels it in its accepted state', async () => {
    const a = ciClient({ port: server.port, account: ACCOUNT_A });
    const submitted = await a.submit(liveRequest({ dataId: 'room-42', userInfo: { Nickname: 'Ann & <Bob>', Room: 'r1' } }));
    assertCiHeaders(submitted.headers, submitted.RequestId);
    const s = submitted.Response.JobsDetail;
    assert.deepEqual(Object.keys(s), ['DataId', 'JobId', 'State', 'CreationTime']);
    assert.match(s.JobId, JOB_ID);
    assert.equal(s.DataId, 'room-42');
    assert.equal(s.State, 'Submitted');
    assert.match(s.CreationTime, CREATION_TIME);
    assert.equal(submitted.Response.RequestId, submitted.headers['x-ci-request-id']);

    // Transition time 0: moderation has started by the time of the next call.
    const queried = await a.query(s.JobId);
    const q = queried.Response.JobsDetail;
    assert.equal(q.State, 'Auditing');
    assert.equal(q.JobId, s.JobId);
    assert.equal(q.Type, 'live_video');
    assert.equal(q.Url, 'rtmp://example.com/live/123');
    assert.equal(q.CreationTime, s.CreationTime);
    assert.equal(q.Result, '0');
    assert.equal(q.Label, 'Normal');
    assert.deepEqual(q.PornInfo, { HitFlag: '0', Count: '0' });
    assert.deepEqual(q.UserInfo, { Nickname: 'Ann & <Bob>', Room: 'r1' });

    const cancelled = await a.cancel(s.JobId);
    assertCancelShape(cancelled, s.JobId, 'room-42');
    assert.equal(cancelled.Response.JobsDetail.State, 'Cancelled');
    assert.equal(cancelled.Response.JobsDetail.CreationTime, s.CreationTime);
    assert.equal((await a.query(s.JobId)).Response.JobsDetail.State, 'Cancelled');
  });

  it('answers well-formed XML with the seed structure on the wire', async () => {
    const a = ciClient({ port: server.port, account: ACCOUNT_A });
    const jobId = (await a.submit(liveRequest({ dataId: '123-fdrsg-123' }))).Response.JobsDetail.JobId;
    const signed = await captureCi(ACCOUNT_A, 'POST', `/video/cancel_auditing/${jobId}`);
    assert.equal(signed.headers.host, a.host);
    assert.match(String(signed.headers.authorization), /^q-sign-algorithm=sha1&q-ak=.+&q-header-list=content-length;host&q-url-param-list=&q-signature=[0-9a-f]{40}$/);
    const r = await replay(server, signed);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('server'), 'tencent-ci');
    assert.equal(XMLValidator.validate(r.text), true);
    const m = /^<Response><JobsDetail><DataId>123-fdrsg-123<\/DataId><JobId>(av[0-9a-f]{32})<\/JobId><CreationTime>[^<]+<\/CreationTime><State>Cancelled<\/State><\/JobsDetail><RequestId>([^<]+)<\/RequestId><\/Response>$/.exec(r.text);
    assert.ok(m, r.text);
    assert.equal(m[1], jobId);
    assert.equal(m[2], r.headers.get('x-ci-request-id'));
  });

  it('a cancelled job keeps its place: the record is stored with its submission time, not the cancel time', async () => {
    const a = ciClient({ port: server.port, account: ACCOUNT_A });
    const jobId = (await a.submit(liveRequest())).Response.JobsDetail.JobId;
    const createdAt = async () => server.store.transaction(ACCOUNT_A.uin, async (tx) => (await tx.get('ci.job', jobId))!.createdAt);
    const submittedAt = await createdAt();
    await new Promise((r) => setTimeout(r, 20));
    await a.cancel(jobId);
    assert.equal(await createdAt(), submittedAt);
  });

  it('refuses to cancel twice, and unknown jobs', async () => {
    const a = ciClient({ port: server.port, account: ACCOUNT_A });
    const jobId = (await a.submit(liveRequest())).Response.JobsDetail.JobId;
    await a.cancel(jobId);
    const twice = await cosError(a.cancel(jobId));
    assertErrorShape(twice, 'InvalidArgument', 400);
    assert.match(twice.message, new RegExp(jobId));
    const unknown = await cosError(a.cancel('av00000000000000000000000000000000'));
    assertErrorShape(unknown, 'ResourceNotFound', 404);
    assert.match(unknown.message, /av00000000000000000000000000000000/);
    assertErrorShape(await cosError(a.query('av00000000000000000000000000000000')), 'ResourceNotFound', 404);
  });

  it('keeps accounts and buckets apart', async () => {
    const a = ciClient({ port: server.port, account: ACCOUNT_A });
    const jobId = (await a.submit(liveRequest())).Response.JobsDetail.JobId;
    // B signs correctly but addresses A's bucket (A's APPID): not B's to touch.
    const intruder = ciClient({ port: server.port, account: ACCOUNT_B, appId: ACCOUNT_A.appId });
    assertErrorShape(await cosError(intruder.cancel(jobId)), 'AccessDenied', 403);
    assertErrorShape(await cosError(intruder.query(jobId)), 'AccessDenied', 403);
    // B in its own bucket: A's job does not exist there.
    const b = ciClient({ port: server.port, account: ACCOUNT_B });
    assertErrorShape(await cosError(b.cancel(jobId)), 'ResourceNotFound', 404);
    // A in another of its buckets, or in another region: not that bucket's job.
    assertErrorShape(await cosError(ciClient({ port: server.port, account: ACCOUNT_A, bucketName: 'other' }).cancel(jobId)), 'ResourceNotFound', 404);
    assertErrorShape(await cosError(ciClient({ port: server.port, account: ACCOUNT_A, region: 'ap-guangzhou' }).cancel(jobId)), 'ResourceNotFound', 404);
    assert.equal((await a.query(jobId)).Response.JobsDetail.State, 'Auditing');
  });

  it('rejects a tampered signature', async () => {
    const a = ciClient({ port: server.port, account: ACCOUNT_A });
    const jobId = (await a.submit(liveRequest())).Response.JobsDetail.JobId;
    const signed = await captureCi(ACCOUNT_A, 'POST', `/video/cancel_auditing/${jobId}`);
    const auth = String(signed.headers.authorization);
    const flipped = auth.replace(/q-signature=([0-9a-f])/, (_m, c: string) => `q-signature=${c === '0' ? '1' : '0'}`);
    const tampered = [
      { ...signed, headers: { ...signed.headers, authorization: flipped } },
      // Same signature, another job (the path is signed).
      { ...signed, url: `/video/cancel_auditing/${jobId.slice(0, -1)}${jobId.endsWith('0') ? '1' : '0'}` },
      // Same signature, another bucket of the same account (the Host is signed).
      { ...signed, headers: { ...signed.headers, host: signed.headers.host!.replace('examplebucket', 'otherbucket') } },
      // Another method.
      { ...signed, method: 'GET', url: `/video/auditing/${jobId}` },
    ];
    for (const t of tampered) {
      const r = await replay(server, t);
      assert.equal(r.status, 403, r.text);
      assert.match(r.text, /<Code>SignatureDoesNotMatch<\/Code>/);
      assert.ok(r.headers.get('x-ci-request-id'));
      assert.ok(r.headers.get('date'));
    }
    // A client holding the wrong SecretKey.
    const wrongKey = ciClient({ port: server.port, account: { ...ACCOUNT_A, secretKey: 'not-the-key' } });
    assertErrorShape(await cosError(wrongKey.cancel(jobId)), 'SignatureDoesNotMatch', 403);
    // The untampered request still works, and the job was never touched before it.
    const ok = await replay(server, signed);
    assert.equal(ok.status, 200, ok.text);
    assert.match(ok.text, /<State>Cancelled<\/State>/);
  });

  it('rejects an expired signature; the SDK recovers from it with the Date header', async () => {
    const a = ciClient({ port: server.port, account: ACCOUNT_A });
    const jobId = (await a.submit(liveRequest())).Response.JobsDetail.JobId;
    // A client whose clock is one hour late signs a window that is already over.
    const late = ciClient({ port: server.port, account: ACCOUNT_A, extra: { SystemClockOffset: -3600_000, CorrectClockSkew: false } });
    const err = await cosError(late.cancel(jobId));
    assertErrorShape(err, 'AccessDenied', 403);
    assert.equal(err.message, 'Request has expired');
    assert.equal((await a.query(jobId)).Response.JobsDetail.State, 'Auditing');
    // With clock-skew correction (the SDK default) it re-signs from the server's Date and succeeds.
    const correcting = ciClient({ port: server.port, account: ACCOUNT_A, extra: { SystemClockOffset: -3600_000 } });
    const origError = console.error;
    console.error = () => undefined; // the SDK reports the skew on the console
    try {
      const cancelled = await correcting.cancel(jobId);
      assert.equal(cancelled.Response.JobsDetail.State, 'Cancelled');
    } finally {
      console.error = origError;
    }
    // An explicit, long-past signing window.
    const expired = COS.getAuthorization({
      SecretId: ACCOUNT_A.secretId, SecretKey: ACCOUNT_A.secretKey, Method: 'get', Pathname: `/video/auditing/${jobId}`,
      Headers: { host: a.host }, KeyTime: '1497530202;1497610202',
    });
    const r = await replay(server, { method: 'GET', url: `/video/auditing/${jobId}`, headers: { host: a.host, authorization: expired }, body: '' });
    assert.equal(r.status, 403);
    assert.match(r.text, /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
  });

  it('answers InvalidArgument for a bad submit body', async () => {
    const a = ciClient({ port: server.port, account: ACCOUNT_A });
    const bodies: Array<[string, RegExp]> = [
      ['this is not xml', /well-formed|Request/],
      // The seed's own sample has this mismatched closing tag.
      ['<Request><Type>live_video</Type><Input><Url>rtmp://x/live</Url><DataId>1</DataID></Input><Conf/></Request>', /well-formed/],
      ['<Other/>', /Request/],
      ['<Request><Type>video</Type><Input><Url>rtmp://x/live</Url></Input><Conf/></Request>', /Request\.Type/],
      ['<Request><Type>live_video</Type><Conf/></Request>', /Request\.Input/],
      ['<Request><Type>live_video</Type><Input><DataId>x</DataId></Input><Conf/></Request>', /Request\.Input\.Url/],
      ['<Request><Type>live_video</Type><Input><Url>ftp://x/live</Url></Input><Conf/></Request>', /Request\.Input\.Url/],
      ['<Request><Type>live_video</Type><Input><Url>rtmp://x/live</Url></Input></Request>', /Request\.Conf/],
      [liveRequest({ callbackType: 3 }), /CallbackType/],
      [liveRequest({ callback: 'not a url' }), /Callback/],
      [liveRequest({ dataId: 'x'.repeat(513) }), /DataId/],
      [liveRequest({ userInfo: { Nickname: 'n'.repeat(129) } }), /UserInfo\.Nickname/],
    ];
    for (const [body, message] of bodies) {
      const err = await cosError(a.submit(body));
      assertErrorShape(err, 'InvalidArgument', 400);
      assert.match(err.message, message, body);
    }
    const empty = await cosError(call(a.cos, { Bucket: a.bucket, Region: a.region, Method: 'POST', Url: `http://${a.host}/video/auditing`, Key: '/video/auditing' }));
    assertErrorShape(empty, 'InvalidArgument', 400);
  });

  it('sends the end-of-job callback after the cancel, retrying a failed delivery', async () => {
    const received: Array<{ headers: any; body: any; at: number }> = [];
    let first = true;
    const hook: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()), at: Date.now() });
        if (first) {
          first = false;
          // A slow, failing first delivery: the cancel must not wait for it.
          setTimeout(() => {
            res.writeHead(500);
            res.end();
          }, 1500);
        } else {
          res.writeHead(200);
          res.end('ok');
        }
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/ci-hook`;
      const a = ciClient({ port: server.port, account: ACCOUNT_A });
      const jobId = (await a.submit(liveRequest({ dataId: 'cb-1', callback: url, callbackType: 2 }))).Response.JobsDetail.JobId;
      assert.equal(received.length, 0, 'nothing is sent before the job ends');
      const started = Date.now();
      await a.cancel(jobId);
      assert.ok(Date.now() - started < 1000, 'the cancel does not wait for the callback');
      for (let i = 0; i < 100 && received.length < 2; i++) await sleep(100);
      assert.equal(received.length, 2, 'one failed delivery, one retry');
      for (const r of received) {
        assert.equal(r.headers['content-type'], 'application/json');
        assert.equal(r.headers['x-ci-content-version'], 'Simple');
        assert.equal(r.body.code, 0);
        assert.equal(r.body.data.trace_id, jobId);
        assert.equal(r.body.data.event, 'ReviewVideo');
        assert.equal(r.body.data.url, 'rtmp://example.com/live/123');
        assert.equal(r.body.data.data_id, 'cb-1');
        assert.equal(r.body.data.result, 0);
      }
      await sleep(300);
      assert.equal(received.length, 2, 'no delivery after a success');
    } finally {
      hook.close();
    }
  });

  it('reaches tclocal with the Domain + Protocol + Ip options and a Key', async () => {
    const a = ciClient({ port: server.port, account: ACCOUNT_A });
    const jobId = (await a.submit(liveRequest())).Response.JobsDetail.JobId;
    const cos = new COS({
      SecretId: ACCOUNT_A.secretId, SecretKey: ACCOUNT_A.secretKey,
      Domain: '{Bucket}.ci.{Region}.myqcloud.com', Protocol: 'http:', Ip: `127.0.0.1:${server.port}`,
    });
    const q = await call(cos, { Bucket: a.bucket, Region: a.region, Method: 'GET', Key: `video/auditing/${jobId}` });
    assert.equal(q.Response.JobsDetail.JobId, jobId);
    const c = await call(cos, { Bucket: a.bucket, Region: a.region, Method: 'POST', Key: `video/cancel_auditing/${jobId}` });
    assertCancelShape(c, jobId, '');
    // A Host carrying a port is the same bucket (and signed as sent).
    const withPort = new COS({
      SecretId: ACCOUNT_A.secretId, SecretKey: ACCOUNT_A.secretKey,
      Domain: `{Bucket}.ci.{Region}.myqcloud.com:${server.port}`, Protocol: 'http:', Ip: `127.0.0.1:${server.port}`,
    });
    const again = await cosError(call(withPort, { Bucket: a.bucket, Region: a.region, Method: 'POST', Key: `video/cancel_auditing/${jobId}` }));
    assertErrorShape(again, 'InvalidArgument', 400);
  });

  it('reaches tclocal through the Proxy option, keeping the real URL', async () => {
    const cos = new COS({ SecretId: ACCOUNT_A.secretId, SecretKey: ACCOUNT_A.secretKey, Proxy: `http://127.0.0.1:${server.port}` });
    const a = ciClient({ port: server.port, account: ACCOUNT_A });
    const url = `http://${a.host}/video/auditing`;
    const s = await call(cos, { Bucket: a.bucket, Region: a.region, Method: 'POST', Url: url, Key: '/video/auditing', ContentType: 'application/xml', Body: liveRequest({ dataId: 'via-proxy' }) });
    const jobId = s.Response.JobsDetail.JobId;
    const c = await call(cos, { Bucket: a.bucket, Region: a.region, Method: 'POST', Url: `http://${a.host}/video/cancel_auditing/${jobId}`, Key: `video/cancel_auditing/${jobId}` });
    assertCancelShape(c, jobId, 'via-proxy');
    assert.equal((await a.query(jobId)).Response.JobsDetail.State, 'Cancelled');
  });

  it('serves unsigned requests (curl) in lenient mode as the bucket owner', async () => {
    const host = `examplebucket-${ACCOUNT_B.appId}.ci.ap-shanghai.myqcloud.com`;
    const submit = await replay(server, { method: 'POST', url: '/video/auditing', headers: { host, 'content-type': 'application/xml' }, body: liveRequest({ dataId: 'curl' }) });
    assert.equal(submit.status, 200, submit.text);
    const jobId = /<JobId>([^<]+)<\/JobId>/.exec(submit.text)![1];
    // The job is B's: B's signed client sees it.
    const b = ciClient({ port: server.port, account: ACCOUNT_B, region: 'ap-shanghai' });
    assert.equal((await b.query(jobId)).Response.JobsDetail.DataId, 'curl');
    const cancel = await replay(server, { method: 'POST', url: `/video/cancel_auditing/${jobId}`, headers: { host: `${host}:${server.port}` }, body: '' });
    assert.equal(cancel.status, 200, cancel.text);
    assert.match(cancel.text, /<State>Cancelled<\/State>/);
    // A signed request whose Host is not a bucket address.
    const signed = await captureCi(DEFAULT_ACCOUNT, 'GET', `/video/auditing/${jobId}`);
    const r = await replay(server, { ...signed, headers: { ...signed.headers, host: `127.0.0.1:${server.port}` } });
    assert.equal(r.status, 400);
    assert.match(r.text, /<Code>InvalidHost<\/Code>/);
    // Unknown path and wrong method on a known one.
    const unknown = await replay(server, { method: 'GET', url: '/video/nothing', headers: { host }, body: '' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.text, /<Code>InvalidURI<\/Code>/);
    const wrongMethod = await replay(server, { method: 'DELETE', url: `/video/auditing/${jobId}`, headers: { host }, body: '' });
    assert.equal(wrongMethod.status, 405);
    assert.match(wrongMethod.text, /<Code>MethodNotAllowed<\/Code>/);
  });

  it('gives an unknown SecretId (lenient mode) buckets of its own, never those of configured accounts', async () => {
    const stranger = { ...ACCOUNT_A, secretId: 'AKIDsomeoneNew000000000000000000000', secretKey: 'anything' };
    const own = ciClient({ port: server.port, account: stranger, appId: 1309999999 });
    const jobId = (await own.submit(liveRequest())).Response.JobsDetail.JobId;
    assert.equal((await own.query(jobId)).Response.JobsDetail.State, 'Auditing');
    const intruding = ciClient({ port: server.port, account: stranger, appId: ACCOUNT_A.appId });
    assertErrorShape(await cosError(intruding.submit(liveRequest())), 'AccessDenied', 403);
    // A configured account may only use its own APPID.
    const a = ciClient({ port: server.port, account: ACCOUNT_A, appId: 1309999999 });
    assertErrorShape(await cosError(a.query(jobId)), 'AccessDenied', 403);
  });

  it('refuses a body over the size limit with an XML error', async () => {
    const host = `examplebucket-${DEFAULT_ACCOUNT.appId}.ci.ap-beijing.myqcloud.com`;
    const r = await replay(server, { method: 'POST', url: '/video/auditing', headers: { host }, body: Buffer.alloc(300 * 1024, 'a') });
    assert.equal(r.status, 400);
    assert.match(r.text, /<Code>EntityTooLarge<\/Code>/);
    assert.ok(r.headers.get('x-ci-request-id'));
  });
});

describe('CI live moderation lifecycle timing', () => {
  it('moves Submitted to Auditing after the transition time, and cancels a Submitted job', async () => {
    const server = await startTclocal({ rateLimits: false, transitionMs: 1500 });
    try {
      const a = ciClient({ port: server.port, account: ACCOUNT_A });
      const one = (await a.submit(liveRequest())).Response.JobsDetail.JobId;
      const two = (await a.submit(liveRequest())).Response.JobsDetail.JobId;
      assert.equal((await a.query(one)).Response.JobsDetail.State, 'Submitted');
      assert.equal((await a.query(one)).Response.JobsDetail.SnapshotCount, undefined, 'no results before moderation starts');
      const c = await a.cancel(two);
      assert.equal(c.Response.JobsDetail.State, 'Cancelled');
      await sleep(1800);
      assert.equal((await a.query(one)).Response.JobsDetail.State, 'Auditing');
      assert.equal((await a.query(two)).Response.JobsDetail.State, 'Cancelled', 'a cancelled job never starts');
    } finally {
      await server.stop();
    }
  });

  it('keeps jobs Submitted in manual mode until transitions are advanced', async () => {
    const server = await startTclocal({ ...MANUAL_TRANSITIONS, rateLimits: false });
    try {
      const a = ciClient({ port: server.port, account: ACCOUNT_A });
      const jobId = (await a.submit(liveRequest())).Response.JobsDetail.JobId;
      await sleep(1100);
      assert.equal((await a.query(jobId)).Response.JobsDetail.State, 'Submitted');
      const cancelled = await a.cancel(jobId);
      assertCancelShape(cancelled, jobId, '');
      assert.equal(cancelled.Response.JobsDetail.State, 'Cancelled');
      await fetch(server.url + '/_tclocal/transitions/advance', { method: 'POST' });
      assert.equal((await a.query(jobId)).Response.JobsDetail.State, 'Cancelled');
    } finally {
      await server.stop();
    }
  });
});

describe('CI strict authentication', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: false, auth: 'strict' });
  });
  after(async () => {
    await server.stop();
  });

  it('refuses unsigned requests and unknown SecretIds, accepts known signers', async () => {
    const host = `examplebucket-${ACCOUNT_A.appId}.ci.ap-beijing.myqcloud.com`;
    const unsigned = await replay(server, { method: 'POST', url: '/video/auditing', headers: { host }, body: liveRequest() });
    assert.equal(unsigned.status, 403);
    assert.match(unsigned.text, /<Code>AccessDenied<\/Code>/);
    const stranger = ciClient({ port: server.port, account: { ...ACCOUNT_A, secretId: 'AKIDnobodyKnowsThisOne0000000000000' } });
    assertErrorShape(await cosError(stranger.submit(liveRequest())), 'InvalidAccessKeyId', 403);
    const a = ciClient({ port: server.port, account: ACCOUNT_A });
    const jobId = (await a.submit(liveRequest())).Response.JobsDetail.JobId;
    assert.equal((await a.cancel(jobId)).Response.JobsDetail.State, 'Cancelled');
  });
});

describe('CI cancel rate limit', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: true });
  });
  after(async () => {
    await server.stop();
  });

  it('accepts 20 cancels per second per account and answers SlowDown (503) beyond', async () => {
    // The account's budget for one second is spent by 20 plain cancels (unsigned requests are the default
    // account's in lenient mode; unknown jobs count too), so the burst is cheap enough to fit in one
    // window on a busy machine; then the SDK's cancel in the same second is throttled, and another
    // account's is not.
    const a = ciClient({ port: server.port, account: DEFAULT_ACCOUNT });
    const b = ciClient({ port: server.port, account: ACCOUNT_B });
    const host = `examplebucket-${DEFAULT_ACCOUNT.appId}.ci.ap-beijing.myqcloud.com`;
    const { jobA, plain, ofA, ofB } = await inOneSecond(
      async () => ({ jobA: (await a.submit(liveRequest())).Response.JobsDetail.JobId as string, jobB: (await b.submit(liveRequest())).Response.JobsDetail.JobId as string }),
      async ({ jobA, jobB }) => {
        const plain = await Promise.all(
          Array.from({ length: 20 }, (_v, i) => replay(server, { method: 'POST', url: `/video/cancel_auditing/av${String(i).padStart(32, '0')}`, headers: { host }, body: '' }).then((r) => r.status)),
        );
        const [ofA, ofB] = await Promise.allSettled([a.cancel(jobA), b.cancel(jobB)]);
        return { jobA, plain, ofA, ofB };
      },
    );
    assert.deepEqual(plain, Array(20).fill(404), 'the first 20 are served (the jobs do not exist)');
    assert.equal(ofA.status, 'rejected', 'the 21st cancel of the second is throttled');
    const err = (ofA as PromiseRejectedResult).reason;
    assertErrorShape(err, 'SlowDown', 503);
    assert.match(err.message, /20 requests per second/);
    // Another account has a budget of its own.
    assert.equal(ofB.status, 'fulfilled');
    // The throttled job was not cancelled, and can be in the next second.
    await sleep(1000 - (Date.now() % 1000) + 5);
    assert.equal((await a.query(jobA)).Response.JobsDetail.State, 'Auditing');
    assert.equal((await a.cancel(jobA)).Response.JobsDetail.State, 'Cancelled');
  });

  it('counts exactly 20 cancels in one second (raw requests, no SDK retries)', async () => {
    const host = `examplebucket-${DEFAULT_ACCOUNT.appId}.ci.ap-beijing.myqcloud.com`;
    const statuses = await inOneSecond(async () => undefined, () => Promise.all(
      Array.from({ length: 22 }, (_v, i) => replay(server, { method: 'POST', url: `/video/cancel_auditing/av${String(i).padStart(32, '0')}`, headers: { host }, body: '' }).then((r) => r.status)),
    ));
    assert.equal(statuses.filter((s) => s === 404).length, 20, String(statuses));
    assert.equal(statuses.filter((s) => s === 503).length, 2, String(statuses));
  });
});

describe('CI bodies built to cost', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
  });
  after(() => server.stop());

  it('refuses XML nested too deep or too wide before parsing, and never shows the parser\'s wording', async () => {
    const a = ciClient({ port: server.port, account: ACCOUNT_A });
    const deep = `<Request>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</Request>`;
    const deepErr = await cosError(a.submit(deep));
    assertErrorShape(deepErr, 'InvalidArgument', 400);
    assert.match(deepErr.message, /nests deeper than 32 levels/);
    const wide = `<Request>${'<a/>'.repeat(20_000)}</Request>`;
    const wideErr = await cosError(a.submit(wide));
    assert.match(wideErr.message, /more than 10000 elements/);
    const broken = await cosError(a.submit('<Request><Type>live_video</Type><Input><Url>rtmp://x/live</Url><DataId>1</DataID></Input><Conf/></Request>'));
    assertErrorShape(broken, 'InvalidArgument', 400);
    assert.match(broken.message, /^The request body is not well-formed XML \(line \d+, column \d+\)\.$/);
  });
});
