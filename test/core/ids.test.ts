import assert from 'node:assert/strict';
import { it } from 'node:test';
import { randomAlphanumeric, requestId, resourceId } from '../../src/core/ids';

it('IDs look like the real ones and do not repeat across many pool refills', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const id = resourceId('link');
    assert.match(id, /^link-[a-z0-9]{8}$/);
    ids.add(id);
  }
  assert.equal(ids.size, 20_000);
  assert.match(resourceId('rs', 12), /^rs-[a-z0-9]{12}$/);
  assert.match(randomAlphanumeric(10), /^[A-Za-z0-9]{10}$/);
  assert.match(requestId(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  // Every character of the alphabet turns up: the bytes are not stuck.
  const seen = new Set([...Array.from({ length: 500 }, () => resourceId('x')).join('').replace(/x-/g, '')]);
  assert.equal(seen.size, 36);
});
