import assert from 'node:assert/strict';
import { it } from 'node:test';
import { materialize, RawJson } from '../../src/core/raw-json';
import { errorBody, successBody, type ResponseBody } from '../../src/gateway/api3/envelope';

const text = (body: ResponseBody) => (typeof body === 'string' ? body : Buffer.concat(body).toString('utf8'));

it('envelopes write already-serialised fields as they are, and the rest as JSON', () => {
  const set = new RawJson('[{"ProxyId":"link-1","Tags":["a"]},{"ProxyId":"link-2"}]');
  const body = successBody({ TotalCount: 2, InstanceSet: set, ProxySet: set, Skipped: undefined, Name: 'a"b' }, 'rid');
  assert.equal(typeof body, 'string');
  assert.deepEqual(JSON.parse(text(body)), {
    Response: { TotalCount: 2, InstanceSet: [{ ProxyId: 'link-1', Tags: ['a'] }, { ProxyId: 'link-2' }], ProxySet: [{ ProxyId: 'link-1', Tags: ['a'] }, { ProxyId: 'link-2' }], Name: 'a"b', RequestId: 'rid' },
  });
  assert.deepEqual(JSON.parse(text(successBody({ Empty: new RawJson('[]') }, 'r'))).Response.Empty, []);
  assert.deepEqual(materialize({ A: set, B: 1 }), { A: [{ ProxyId: 'link-1', Tags: ['a'] }, { ProxyId: 'link-2' }], B: 1 });
  assert.deepEqual(JSON.parse(errorBody('X.Y', 'm', 'r')), { Response: { Error: { Code: 'X.Y', Message: 'm' }, RequestId: 'r' } });
});

it('bytes read from the store go out as the very same buffers, never copied, non-ASCII included', () => {
  const page = Buffer.from('[{"RegionName":"中国香港"},{"n":2}]');
  const out = successBody({ TotalCount: 2, Set: new RawJson(page), Again: new RawJson(page), Last: 'x' }, 'r2');
  assert.ok(Array.isArray(out));
  assert.equal(out.filter((chunk) => chunk === page).length, 2);
  assert.deepEqual(JSON.parse(text(out)), {
    Response: { TotalCount: 2, Set: [{ RegionName: '中国香港' }, { n: 2 }], Again: [{ RegionName: '中国香港' }, { n: 2 }], Last: 'x', RequestId: 'r2' },
  });
  assert.deepEqual(materialize({ Set: new RawJson(page) }), { Set: [{ RegionName: '中国香港' }, { n: 2 }] });
});
