/**
 * The q-sign (sha1) signature: tclocal's verifier must agree with the
 * signer of the official cos-nodejs-sdk-v5 on every part it signs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CosError } from '../../../src/gateway/cos/errors';
import { checkSignWindow, computeQSignature, cosUrlEncode, hasQSign, parseQSign, verifyQSignature } from '../../../src/gateway/cos/signature';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const COS: any = require('cos-nodejs-sdk-v5');
const SECRET_ID = 'AKIDexample000000000000000000000000';
const SECRET_KEY = 'example-secret-key';

function sdkSign(o: { method: string; path: string; query?: Record<string, string>; headers?: Record<string, string>; keyTime?: string }) {
  return COS.getAuthorization({
    SecretId: SECRET_ID, SecretKey: SECRET_KEY, Method: o.method, Pathname: o.path,
    Query: o.query ?? {}, Headers: o.headers ?? {}, KeyTime: o.keyTime,
  }) as string;
}

function thrown(fn: () => unknown): CosError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CosError, String(err));
    return err;
  }
  throw new Error('expected an error');
}

describe('q-sign signature', () => {
  const cases: Array<{ method: string; path: string; query?: Record<string, string>; headers: Record<string, string> }> = [
    { method: 'post', path: '/video/cancel_auditing/av0123', headers: { host: 'b-1250000000.ci.ap-beijing.myqcloud.com', 'content-length': '0' } },
    { method: 'get', path: '/video/auditing/av0123', headers: { Host: 'b-1250000000.ci.ap-beijing.myqcloud.com:8080' } },
    {
      method: 'post', path: '/video/auditing', query: { 'ci-process': 'x y', Prefix: "a!'()*/é" },
      headers: { host: 'b-1250000000.ci.ap-beijing.myqcloud.com', 'Content-Type': 'application/xml', 'x-ci-meta': 'v&w=z' },
    },
  ];

  for (const c of cases) {
    it(`verifies what the SDK signs: ${c.method} ${c.path}`, () => {
      const auth = sdkSign(c);
      const parsed = parseQSign(auth, new URLSearchParams())!;
      assert.equal(parsed.ak, SECRET_ID);
      const headers = Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k.toLowerCase(), v]));
      const query = new URLSearchParams(c.query ?? {});
      const req = { method: c.method.toUpperCase(), path: c.path, query, headers };
      assert.equal(computeQSignature(parsed, SECRET_KEY, req), parsed.signature);
      verifyQSignature(parsed, SECRET_KEY, req);
      // Any signed part changed breaks it.
      assert.equal(thrown(() => verifyQSignature(parsed, SECRET_KEY, { ...req, path: c.path + 'x' })).code, 'SignatureDoesNotMatch');
      assert.equal(thrown(() => verifyQSignature(parsed, SECRET_KEY, { ...req, method: 'PUT' })).code, 'SignatureDoesNotMatch');
      assert.equal(thrown(() => verifyQSignature(parsed, 'other-key', req)).code, 'SignatureDoesNotMatch');
      const otherHost = { ...headers, host: 'other-1250000000.ci.ap-beijing.myqcloud.com' };
      assert.equal(thrown(() => verifyQSignature(parsed, SECRET_KEY, { ...req, headers: otherHost })).code, 'SignatureDoesNotMatch');
      if (c.query) {
        const q2 = new URLSearchParams(c.query);
        q2.set('ci-process', 'changed');
        assert.equal(thrown(() => verifyQSignature(parsed, SECRET_KEY, { ...req, query: q2 })).code, 'SignatureDoesNotMatch');
        // Unsigned parameters and headers may be added freely.
        const q3 = new URLSearchParams(c.query);
        q3.set('unsigned', '1');
        verifyQSignature(parsed, SECRET_KEY, { ...req, query: q3, headers: { ...headers, 'user-agent': 'x' } });
      }
    });
  }

  it('reads a pre-signed URL (signature in the query)', () => {
    const auth = sdkSign({ method: 'get', path: '/video/auditing/av1', headers: { host: 'b-1.ci.r.myqcloud.com' } });
    const query = new URLSearchParams(auth);
    assert.equal(hasQSign(undefined, query.toString()), true);
    const parsed = parseQSign(undefined, query)!;
    assert.equal(parsed.source, 'query');
    verifyQSignature(parsed, SECRET_KEY, { method: 'GET', path: '/video/auditing/av1', query, headers: { host: 'b-1.ci.r.myqcloud.com' } });
  });

  it('checks the signing window', () => {
    const parsed = parseQSign(sdkSign({ method: 'get', path: '/', keyTime: '1000;2000' }), new URLSearchParams())!;
    checkSignWindow(parsed, 1500);
    const late = thrown(() => checkSignWindow(parsed, 2001));
    assert.equal(late.code, 'AccessDenied');
    assert.equal(late.message, 'Request has expired');
    assert.equal(late.status, 403);
    assert.equal(thrown(() => checkSignWindow(parsed, 999)).code, 'RequestTimeTooSkewed');
  });

  it('refuses malformed signatures with AccessDenied', () => {
    const good = sdkSign({ method: 'get', path: '/' });
    const variants = [
      good.replace(/&q-signature=[0-9a-f]+/, ''),
      good.replace('q-sign-algorithm=sha1', 'q-sign-algorithm=md5'),
      good.replace(/q-sign-time=\d+;\d+/, 'q-sign-time=abc'),
      good.replace(/q-key-time=(\d+);(\d+)/, 'q-key-time=$2;$1'),
      good.replace(/q-signature=[0-9a-f]+/, 'q-signature=xyz'),
      good.replace(/q-ak=[^&]+/, 'q-ak='),
    ];
    for (const v of variants) {
      const err = thrown(() => parseQSign(v, new URLSearchParams()));
      assert.equal(err.code, 'AccessDenied', v);
      assert.equal(err.status, 403);
    }
    assert.equal(parseQSign(undefined, new URLSearchParams()), undefined);
    assert.equal(parseQSign('TC3-HMAC-SHA256 Credential=x', new URLSearchParams()), undefined);
  });

  it('encodes like the SDK', () => {
    assert.equal(cosUrlEncode("a b!'()*~/é"), 'a%20b%21%27%28%29%2A~%2F%C3%A9');
  });
});
