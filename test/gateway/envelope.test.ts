import assert from 'node:assert/strict';
import { it } from 'node:test';
import { materialize, RawJson } from '../../src/core/raw-json';
import { errorBody, successBody } from '../../src/gateway/api3/envelope';

it('envelopes write already-serialised fields as they are, and the rest as JSON', () => {
  const set = RawJson.array(['{"ProxyId":"link-1","Tags":["a"]}', '{"ProxyId":"link-2"}']);
  const body = successBody({ TotalCount: 2, InstanceSet: set, ProxySet: set, Skipped: undefined, Name: 'a"b' }, 'rid');
  assert.deepEqual(JSON.parse(String(body)), {
    Response: { TotalCount: 2, InstanceSet: [{ ProxyId: 'link-1', Tags: ['a'] }, { ProxyId: 'link-2' }], ProxySet: [{ ProxyId: 'link-1', Tags: ['a'] }, { ProxyId: 'link-2' }], Name: 'a"b', RequestId: 'rid' },
  });
  assert.deepEqual(JSON.parse(String(successBody({ Empty: RawJson.array([]) }, 'r'))).Response.Empty, []);
  // Records read from the store as UTF-8 bytes stay bytes, non-ASCII included.
  const bytes = RawJson.array([Buffer.from('{"RegionName":"中国香港"}'), Buffer.from('{"n":2}')]);
  const out = successBody({ TotalCount: 2, Set: bytes }, 'r2');
  assert.ok(Buffer.isBuffer(out));
  assert.deepEqual(JSON.parse(out.toString('utf8')), { Response: { TotalCount: 2, Set: [{ RegionName: '中国香港' }, { n: 2 }], RequestId: 'r2' } });
  assert.deepEqual(materialize({ Set: bytes }), { Set: [{ RegionName: '中国香港' }, { n: 2 }] });
  assert.deepEqual(materialize({ A: set, B: 1 }), { A: [{ ProxyId: 'link-1', Tags: ['a'] }, { ProxyId: 'link-2' }], B: 1 });
  assert.deepEqual(JSON.parse(errorBody('X.Y', 'm', 'r')), { Response: { Error: { Code: 'X.Y', Message: 'm' }, RequestId: 'r' } });
});
