import assert from 'node:assert/strict';
import { it } from 'node:test';
import { materialize, RawJson } from '../../src/core/raw-json';
import { errorBody, successBody } from '../../src/gateway/api3/envelope';

it('envelopes write already-serialised fields as they are, and the rest as JSON', () => {
  const set = RawJson.array(['{"ProxyId":"link-1","Tags":["a"]}', '{"ProxyId":"link-2"}']);
  const body = successBody({ TotalCount: 2, InstanceSet: set, ProxySet: set, Skipped: undefined, Name: 'a"b' }, 'rid');
  assert.deepEqual(JSON.parse(body), {
    Response: { TotalCount: 2, InstanceSet: [{ ProxyId: 'link-1', Tags: ['a'] }, { ProxyId: 'link-2' }], ProxySet: [{ ProxyId: 'link-1', Tags: ['a'] }, { ProxyId: 'link-2' }], Name: 'a"b', RequestId: 'rid' },
  });
  assert.deepEqual(JSON.parse(successBody({ Empty: RawJson.array([]) }, 'r')).Response.Empty, []);
  assert.deepEqual(materialize({ A: set, B: 1 }), { A: [{ ProxyId: 'link-1', Tags: ['a'] }, { ProxyId: 'link-2' }], B: 1 });
  assert.deepEqual(JSON.parse(errorBody('X.Y', 'm', 'r')), { Response: { Error: { Code: 'X.Y', Message: 'm' }, RequestId: 'r' } });
});
