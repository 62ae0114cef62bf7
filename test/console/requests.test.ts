/**
 * The request log, GET /_tclocal/requests: what official SDKs sent and got,
 * filtered, with secrets masked, bounded by its setting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { ciClient } from '../../testkit/cos-client';
import { ACCOUNT_A, cnClient, DEFAULT_ACCOUNT, errorCode, intlClient, startTclocal } from '../helpers';
import { admin } from './admin-client';

const PRIVATE_KEY_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7secretbytes';
const PEM_KEY = `-----BEGIN PRIVATE KEY-----\n${PRIVATE_KEY_BODY}\n-----END PRIVATE KEY-----\n`;

describe('request log', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal();
  });
  after(() => server.stop());

  it('records each SDK call with its account, service, action, code, latency and RequestId', async () => {
    const gaap = cnClient('gaap', server);
    const ok = await gaap.DescribeAccessRegions({});
    const code = await errorCode(gaap.DescribeProxyDetail({ ProxyId: 'link-doesnotexist' }));
    const { status, json } = await admin(server, 'GET', '/_tclocal/requests?service=gaap');
    assert.equal(status, 200);
    assert.equal(json.enabled, true);
    assert.equal(json.capacity, 100);
    const [failed, succeeded] = json.requests;
    assert.equal(succeeded.requestId, ok.RequestId);
    assert.equal(succeeded.action, 'DescribeAccessRegions');
    assert.equal(succeeded.account, DEFAULT_ACCOUNT.uin);
    assert.equal(succeeded.code, null);
    assert.equal(succeeded.protocol, 'api3');
    assert.ok(succeeded.ms >= 0);
    assert.ok(Date.parse(succeeded.time) <= Date.now());
    assert.equal(failed.action, 'DescribeProxyDetail');
    assert.equal(failed.code, code);
    assert.deepEqual(failed.params, { ProxyId: 'link-doesnotexist' });
    assert.ok(failed.seq > succeeded.seq, 'newest first');

    const detail = await admin(server, 'GET', `/_tclocal/requests/${failed.requestId}`);
    assert.equal(detail.status, 200);
    assert.equal(detail.json.response.Response.Error.Code, code);
    assert.equal(detail.json.response.Response.RequestId, failed.requestId);
    assert.equal((await admin(server, 'GET', '/_tclocal/requests/no-such-id')).status, 404);
  });

  it('filters by action, account, code, since, after and limit', async () => {
    const a = cnClient('gaap', server, { account: ACCOUNT_A });
    await a.DescribeDestRegions({});
    await errorCode(a.DescribeProxyDetail({ ProxyId: 'link-alsomissing' }));
    const byAccount = (await admin(server, 'GET', `/_tclocal/requests?account=${ACCOUNT_A.uin}`)).json.requests;
    assert.deepEqual(byAccount.map((c: any) => c.action), ['DescribeProxyDetail', 'DescribeDestRegions']);
    const failed = (await admin(server, 'GET', `/_tclocal/requests?account=${ACCOUNT_A.uin}&code=*`)).json.requests;
    assert.deepEqual(failed.map((c: any) => c.action), ['DescribeProxyDetail']);
    const byCode = (await admin(server, 'GET', `/_tclocal/requests?code=${failed[0].code}&action=DescribeProxyDetail`)).json.requests;
    assert.ok(byCode.length >= 2 && byCode.every((c: any) => c.code === failed[0].code));
    const succeeded = (await admin(server, 'GET', `/_tclocal/requests?account=${ACCOUNT_A.uin}&code=none`)).json.requests;
    assert.deepEqual(succeeded.map((c: any) => c.action), ['DescribeDestRegions']);
    assert.equal((await admin(server, 'GET', '/_tclocal/requests?limit=1')).json.requests.length, 1);
    assert.equal((await admin(server, 'GET', `/_tclocal/requests?since=${Date.now() + 60_000}`)).json.requests.length, 0);
    const after = (await admin(server, 'GET', `/_tclocal/requests?after=${byAccount[1].seq}`)).json.requests;
    assert.deepEqual(after.map((c: any) => c.requestId), [byAccount[0].requestId]);
    const bad = await admin(server, 'GET', '/_tclocal/requests?sevice=gaap');
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /unknown filter sevice/);
    assert.match((await admin(server, 'GET', '/_tclocal/requests?since=yesterday')).json.error, /since must be/);
  });

  it('masks private keys, signatures and the Authorization header', async () => {
    const ssl = cnClient('ssl', server);
    const requestId = await ssl
      .UploadCertificate({ CertificatePublicKey: 'not a certificate', CertificatePrivateKey: PEM_KEY, Alias: `has ${PEM_KEY} inside` })
      .catch((err: { requestId: string }) => err.requestId);
    // The v1 form signature of the international SDK travels in the parameters.
    const intl = intlClient('gaap', server, { reqMethod: 'GET' });
    await intl.DescribeAccessRegions({});
    const { json } = await admin(server, 'GET', '/_tclocal/requests?limit=2');
    const text = JSON.stringify(json);
    assert.ok(!text.includes(PRIVATE_KEY_BODY), 'no private key in the log');
    const [v1Get, upload] = json.requests;
    assert.equal(upload.requestId, requestId);
    assert.equal(upload.params.CertificatePrivateKey, '***');
    assert.equal(upload.params.Alias, 'has ***\n inside');
    assert.equal(upload.params.CertificatePublicKey, 'not a certificate');
    assert.match(v1Get.url, /Signature=\*\*\*/);
    assert.doesNotMatch(v1Get.url, /Signature=[^*&]/);
    const detail = await admin(server, 'GET', `/_tclocal/requests/${upload.requestId}`);
    assert.equal(detail.json.headers.authorization, '***');
    assert.ok(!JSON.stringify(detail.json).includes(PRIVATE_KEY_BODY));
  });

  it('records Cloud Infinite calls over the COS XML protocol', async () => {
    const ci = ciClient({ port: server.port, account: DEFAULT_ACCOUNT });
    const err = await ci.query('av00000000000000000000000000000000').catch((e: any) => e);
    const [call] = (await admin(server, 'GET', '/_tclocal/requests?service=ci&limit=1')).json.requests;
    assert.equal(call.protocol, 'cos');
    assert.equal(call.action, 'GetLiveAuditing');
    assert.equal(call.account, DEFAULT_ACCOUNT.uin);
    assert.equal(call.code, err.code);
    assert.equal(call.requestId, err.headers['x-ci-request-id']);
    const detail = await admin(server, 'GET', `/_tclocal/requests/${encodeURIComponent(call.requestId)}`);
    assert.equal(detail.json.headers.authorization, '***');
    assert.match(detail.json.response, new RegExp(`<Code>${err.code}</Code>`));
  });

  it('does not record admin requests', async () => {
    const [newest] = (await admin(server, 'GET', '/_tclocal/requests?limit=1')).json.requests;
    await admin(server, 'GET', '/_tclocal/health');
    await admin(server, 'GET', '/_tclocal/faults');
    const { json } = await admin(server, 'GET', `/_tclocal/requests?after=${newest.seq}`);
    assert.deepEqual(json.requests, []);
  });
});

describe('request log size', () => {
  it('keeps only the last N calls (TCLOCAL_REQUEST_LOG)', async () => {
    const server = await startTclocal({ requestLog: 3 });
    try {
      const gaap = cnClient('gaap', server);
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push((await gaap.DescribeAccessRegions({})).RequestId);
      const { json } = await admin(server, 'GET', '/_tclocal/requests?limit=100');
      assert.equal(json.capacity, 3);
      assert.deepEqual(json.requests.map((c: any) => c.requestId), ids.slice(2).reverse());
      await admin(server, 'DELETE', '/_tclocal/requests', {});
      assert.equal((await admin(server, 'GET', '/_tclocal/requests')).json.requests.length, 0);
    } finally {
      await server.stop();
    }
  });

  it('records nothing when set to 0', async () => {
    const server = await startTclocal({ requestLog: 0 });
    try {
      await cnClient('gaap', server).DescribeAccessRegions({});
      const { json } = await admin(server, 'GET', '/_tclocal/requests');
      assert.deepEqual(json, { enabled: false, capacity: 0, requests: [] });
    } finally {
      await server.stop();
    }
  });
});
