/**
 * The COS-style protocol layer on its own: host parsing, XML documents,
 * and a failing handler answered as an XML InternalError.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import pino from 'pino';
import { DEFAULT_ACCOUNT } from '../../../src/config';
import { Accounts } from '../../../src/gateway/accounts';
import { CosError } from '../../../src/gateway/cos/errors';
import { parseBucketHost } from '../../../src/gateway/cos/host';
import { createCosProtocol, type CosRoute } from '../../../src/gateway/cos/protocol';
import { parseXmlBody, toXml } from '../../../src/gateway/cos/xml';

function fakeRequest(method: string, url: string, headers: Record<string, string>): IncomingMessage {
  return { method, url, headers } as unknown as IncomingMessage;
}

function protocol(routes: CosRoute[], strict = false) {
  return createCosProtocol({
    name: 'demo', hostService: 'ci', requestIdHeader: 'x-ci-request-id', server: 'tencent-ci',
    accounts: new Accounts([DEFAULT_ACCOUNT], !strict), strict, rateLimits: true, log: pino({ level: 'silent' }), routes,
  });
}

describe('bucket hosts', () => {
  it('parses <BucketName-APPID>.<service>.<Region>.myqcloud.com, with or without a port', () => {
    assert.deepEqual(parseBucketHost('examplebucket-1250000000.ci.ap-beijing.myqcloud.com'), {
      bucket: 'examplebucket-1250000000', bucketName: 'examplebucket', appId: 1250000000, service: 'ci', region: 'ap-beijing',
      host: 'examplebucket-1250000000.ci.ap-beijing.myqcloud.com',
    });
    const withPort = parseBucketHost('My-Bucket-2-1251000001.CI.ap-guangzhou.myqcloud.com:4577')!;
    assert.equal(withPort.bucket, 'my-bucket-2-1251000001');
    assert.equal(withPort.bucketName, 'my-bucket-2');
    assert.equal(withPort.appId, 1251000001);
    assert.equal(withPort.region, 'ap-guangzhou');
    assert.equal(parseBucketHost('b-1.cos.ap-beijing.myqcloud.com')!.service, 'cos');
    for (const bad of ['127.0.0.1:4577', 'bucket.ci.ap-beijing.myqcloud.com', 'b-1.ci.ap-beijing.example.com', 'gaap.tencentcloudapi.com', '', undefined]) {
      assert.equal(parseBucketHost(bad), undefined, String(bad));
    }
  });
});

describe('XML documents', () => {
  it('writes well-formed, escaped XML', () => {
    const xml = toXml('Response', { JobsDetail: { DataId: 'a<b>&"c\'', Empty: null, Skipped: undefined, List: ['1', '2'] }, RequestId: 'r' });
    assert.equal(xml, '<Response><JobsDetail><DataId>a&lt;b&gt;&amp;&quot;c&apos;</DataId><Empty></Empty><List>1</List><List>2</List></JobsDetail><RequestId>r</RequestId></Response>');
    assert.equal(XMLValidator.validate(xml), true);
    assert.match(toXml('Error', { Code: 'x' }, true), /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>x<\/Code><\/Error>$/);
  });

  it('refuses a body that is not valid UTF-8', () => {
    assert.throws(() => parseXmlBody(Buffer.concat([Buffer.from('<Request><A>'), Buffer.from([0xff]), Buffer.from('</A></Request>')])), (e: unknown) => e instanceof CosError && e.code === 'InvalidArgument' && /UTF-8/.test(e.message));
  });

  it('parses bodies and refuses bad ones with InvalidArgument', () => {
    assert.deepEqual(parseXmlBody(Buffer.from('<?xml version="1.0"?><Request><A> x&amp;y </A><B/></Request>')), { Request: { A: 'x&y', B: '' } });
    for (const bad of ['', '   ', 'plain text', '<a><b></a>', '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>']) {
      let err: unknown;
      try {
        parseXmlBody(Buffer.from(bad));
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof CosError, bad);
      assert.equal(err.code, 'InvalidArgument');
      assert.equal(err.status, 400);
    }
  });
});

describe('COS protocol', () => {
  const host = `b-${DEFAULT_ACCOUNT.appId}.ci.ap-beijing.myqcloud.com`;

  it('matches bucket hosts of its service and q-sign requests only', () => {
    const p = protocol([]);
    assert.equal(p.matches(fakeRequest('GET', '/', { host })), true);
    assert.equal(p.matches(fakeRequest('GET', '/', { host: `${host}:4577` })), true);
    assert.equal(p.matches(fakeRequest('GET', '/', { host: 'b-1.cos.ap-beijing.myqcloud.com' })), false);
    assert.equal(p.matches(fakeRequest('POST', '/', { host: '127.0.0.1:4577', authorization: 'q-sign-algorithm=sha1&q-ak=x' })), true);
    assert.equal(p.matches(fakeRequest('GET', '/x?q-sign-algorithm=sha1&q-ak=x', { host: '127.0.0.1:4577' })), true);
    assert.equal(p.matches(fakeRequest('POST', '/', { host: '127.0.0.1:4577', authorization: 'TC3-HMAC-SHA256 Credential=x' })), false);
  });

  it('answers a handler bug with an XML InternalError (500), and a CosError with its own code', async () => {
    const p = protocol([
      { method: 'POST', path: /^\/boom$/, action: 'Boom', handle: async () => { throw new TypeError('a bug'); } },
      { method: 'POST', path: /^\/refuse$/, action: 'Refuse', handle: async () => { throw new CosError(409, 'Conflict', 'no'); } },
      { method: 'GET', path: /^\/ok\/([^/]+)$/, action: 'Ok', handle: async (c) => ({ root: 'Response', content: { Echo: c.params[0], Bucket: c.bucket.bucket } }) },
    ]);
    const boom = await p.handle(fakeRequest('POST', '/boom', { host }), Buffer.alloc(0));
    assert.equal(boom.status, 500);
    const text = String(boom.body);
    assert.equal(XMLValidator.validate(text), true);
    const m = /<Error><Code>InternalError<\/Code><Message>[^<]+<\/Message><RequestId>([^<]+)<\/RequestId><TraceId>[^<]+<\/TraceId><\/Error>$/.exec(text);
    assert.ok(m, text);
    assert.equal(boom.headers['x-ci-request-id'], m[1]);
    assert.ok(boom.headers.Date);
    assert.equal(boom.headers['Content-Type'], 'application/xml');

    const refused = await p.handle(fakeRequest('POST', '/refuse', { host }), Buffer.alloc(0));
    assert.equal(refused.status, 409);
    assert.match(String(refused.body), /<Code>Conflict<\/Code><Message>no<\/Message>/);

    const ok = await p.handle(fakeRequest('GET', '/ok/a%20b', { host }), Buffer.alloc(0));
    assert.equal(ok.status, 200);
    assert.match(String(ok.body), new RegExp(`^<Response><Echo>a b</Echo><Bucket>b-${DEFAULT_ACCOUNT.appId}</Bucket><RequestId>${ok.headers['x-ci-request-id']}</RequestId></Response>$`));

    const badPath = await p.handle(fakeRequest('GET', '/ok/%E0%A4%A', { host }), Buffer.alloc(0));
    assert.equal(badPath.status, 400);
    assert.match(String(badPath.body), /<Code>InvalidURI<\/Code>/);
  });

  it('applies a route rate limit per account', async () => {
    const p = protocol([{ method: 'POST', path: /^\/x$/, action: 'X', rateLimit: 2, handle: async () => ({ root: 'Response', content: {} }) }]);
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await p.handle(fakeRequest('POST', '/x', { host }), Buffer.alloc(0))).status);
    assert.deepEqual(statuses, [200, 200, 503]);
  });

  it('refuses unsigned requests in strict mode', async () => {
    const p = protocol([{ method: 'GET', path: /^\/x$/, action: 'X', handle: async () => ({ root: 'Response', content: {} }) }], true);
    const r = await p.handle(fakeRequest('GET', '/x', { host }), Buffer.alloc(0));
    assert.equal(r.status, 403);
    assert.match(String(r.body), /<Code>AccessDenied<\/Code>/);
  });
});
