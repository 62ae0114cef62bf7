import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AcceptTurns, LEAD, QUIET_MS } from '../../src/dataplane/accept-turns';

describe('data plane: which forwarders accept on TCP listeners (accept turns)', () => {
  const clock = () => {
    const c = { t: 1_000_000, now: () => c.t };
    return c;
  };

  it('the others join a listener only after two busy reports of the lead in a row, and only listeners taking connections', () => {
    const c = clock();
    const turns = new AcceptTurns(2, { joinAt: 0.9, quietMs: QUIET_MS }, c.now);
    assert.equal(turns.everyone, false);
    assert.deepEqual(turns.reported(LEAD, 0.95, [1, 2]), [], 'one busy report can be a collection');
    c.t += 200;
    assert.deepEqual(turns.reported(LEAD, 0.5, [1]), [], 'not busy: the count starts again');
    c.t += 200;
    assert.deepEqual(turns.reported(LEAD, 0.95, [1]), []);
    c.t += 200;
    assert.deepEqual(turns.reported(1, 0.99, [1]), [], 'another forwarder busy does not count');
    assert.deepEqual(turns.reported(LEAD, 0.92, [1, 3]), [1, 3]);
    c.t += 200;
    assert.deepEqual(turns.reported(LEAD, 0.97, []), [], 'no listener took connections');
  });

  it('they leave once all forwarders together stayed under half the share for the quiet time; reports grow stale', () => {
    const c = clock();
    const turns = new AcceptTurns(2, { joinAt: 0.8, quietMs: 2000 }, c.now);
    turns.reported(LEAD, 0.9, [7]);
    c.t += 200;
    assert.deepEqual(turns.reported(LEAD, 0.9, [7]), [7]);
    c.t += 1000;
    assert.equal(turns.quiet(), false);
    // 0.25 + 0.2 = 0.45: above half of 0.8, still too much for the lead alone.
    turns.reported(LEAD, 0.25, [7]);
    turns.reported(1, 0.2, [7]);
    c.t += 300;
    assert.equal(turns.quiet(), false);
    c.t += 1900;
    assert.equal(turns.quiet(), false, 'the last busy moment was 300 ms before the reports went stale');
    c.t += 200;
    assert.equal(turns.quiet(), true, 'no report for a while: the forwarders are idle');
  });

  it('the lead gone resets the quiet time; one forwarder or a share of 0: everyone accepts from the start', () => {
    const c = clock();
    const turns = new AcceptTurns(3, { joinAt: 0.9, quietMs: 2000 }, c.now);
    c.t += 5000;
    assert.equal(turns.quiet(), true);
    turns.leadGone();
    assert.equal(turns.quiet(), false);
    c.t += 2000;
    assert.equal(turns.quiet(), true);
    assert.equal(new AcceptTurns(1, { joinAt: 0.9, quietMs: 2000 }).everyone, true);
    assert.equal(new AcceptTurns(2, { joinAt: 0, quietMs: 2000 }).everyone, true);
  });
});
