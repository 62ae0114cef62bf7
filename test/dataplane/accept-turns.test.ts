import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AcceptTurns, LEAD, QUIET_MS } from '../../src/dataplane/accept-turns';

describe('data plane: which forwarders accept on TCP listeners (accept turns)', () => {
  /** A clock, and the machine's idle time: `spare` cores idle while it runs. */
  const clock = () => {
    const c = {
      t: 1_000_000,
      idle: 0,
      spare: 1,
      now: () => c.t,
      idleMs: () => c.idle,
      tick: (ms: number) => {
        c.t += ms;
        c.idle += ms * c.spare;
      },
    };
    return c;
  };

  it('the others join a listener only after two busy reports of the lead in a row, and only listeners taking connections', () => {
    const c = clock();
    const turns = new AcceptTurns(2, { joinAt: 0.9, quietMs: QUIET_MS }, c.now, c.idleMs);
    assert.equal(turns.everyone, false);
    assert.deepEqual(turns.reported(LEAD, 0.95, [1, 2]), [], 'one busy report can be a collection');
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.5, [1]), [], 'not busy: the count starts again');
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.95, [1]), []);
    c.tick(200);
    assert.deepEqual(turns.reported(1, 0.99, [1]), [], 'another forwarder busy does not count');
    assert.deepEqual(turns.reported(LEAD, 0.92, [1, 3]), [1, 3]);
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.97, []), [], 'no listener took connections');
  });

  it('the others join only while the machine has idle CPU for them: half the share of a core', () => {
    const c = clock();
    const turns = new AcceptTurns(2, { joinAt: 0.9, quietMs: QUIET_MS }, c.now, c.idleMs);
    c.spare = 0.3;
    turns.reported(LEAD, 0.95, [1]);
    for (let i = 0; i < 5; i++) {
      c.tick(200);
      assert.deepEqual(turns.reported(LEAD, 0.95, [1]), [], 'no core to spare: a second forwarder would only share the time');
    }
    c.spare = 0.5;
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.95, [1]), [1], 'half a core idle since the last report');
    c.spare = 1.5;
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.95, [1]), [1]);
    c.tick(200);
    turns.reported(LEAD, 0.2, [1]);
    c.tick(5000);
    assert.deepEqual(turns.reported(LEAD, 0.95, [1]), [], 'idle time while the lead was not busy does not count');
    c.tick(5000);
    assert.deepEqual(turns.reported(LEAD, 0.95, [1]), [], 'two busy reports with a silence between them are not in a row');
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.95, [1]), [1]);
  });

  it('they leave once all forwarders together stayed under half the share for the quiet time; reports grow stale', () => {
    const c = clock();
    const turns = new AcceptTurns(2, { joinAt: 0.8, quietMs: 2000 }, c.now, c.idleMs);
    turns.reported(LEAD, 0.9, [7]);
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.9, [7]), [7]);
    c.tick(1000);
    assert.equal(turns.quiet(), false);
    // 0.25 + 0.2 = 0.45: above half of 0.8, still too much for the lead alone.
    turns.reported(LEAD, 0.25, [7]);
    turns.reported(1, 0.2, [7]);
    c.tick(300);
    assert.equal(turns.quiet(), false);
    c.tick(1900);
    assert.equal(turns.quiet(), false, 'the last busy moment was 300 ms before the reports went stale');
    c.tick(200);
    assert.equal(turns.quiet(), true, 'no report for a while: the forwarders are idle');
  });

  it('the lead gone resets the quiet time; one forwarder or a share of 0: everyone accepts from the start', () => {
    const c = clock();
    const turns = new AcceptTurns(3, { joinAt: 0.9, quietMs: 2000 }, c.now, c.idleMs);
    c.tick(5000);
    assert.equal(turns.quiet(), true);
    turns.leadGone();
    assert.equal(turns.quiet(), false);
    c.tick(2000);
    assert.equal(turns.quiet(), true);
    assert.equal(new AcceptTurns(1, { joinAt: 0.9, quietMs: 2000 }).everyone, true);
    assert.equal(new AcceptTurns(2, { joinAt: 0, quietMs: 2000 }).everyone, true);
  });
});
