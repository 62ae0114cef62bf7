import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AcceptTurns, keepsAlive, LEAD, QUIET_MS, type ListenerTraffic } from '../../src/dataplane/accept-turns';

describe('data plane: which forwarders accept on a listener (accept turns)', () => {
  /** TCP listeners that took connections in a report. */
  const tcp = (...ids: number[]): ListenerTraffic[] => ids.map((id) => ({ id, accepted: 3 }));
  /** A clock, and the machine's idle time: `spare` cores idle while it runs. */
  const clock = (spare = 1) => {
    const c = {
      t: 1_000_000,
      idle: 0,
      spare,
      now: () => c.t,
      idleMs: () => c.idle,
      tick: (ms: number) => {
        c.t += ms;
        c.idle += ms * c.spare;
      },
    };
    return c;
  };
  /** Accept turns for `slots` forwarders on clock `c`. */
  const turnsOn = (c: ReturnType<typeof clock>, slots = 2, joinAt = 0.9, quietMs = QUIET_MS) => new AcceptTurns(slots, { joinAt, quietMs }, c.now, c.idleMs);

  it('the others join a listener only after two busy reports of the lead in a row, and only listeners taking connections', () => {
    const c = clock();
    const turns = turnsOn(c);
    assert.equal(turns.everyone, false);
    assert.deepEqual(turns.reported(LEAD, 0.95, tcp(1, 2)), [], 'one busy report can be a collection');
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.5, tcp(1)), [], 'not busy: the count starts again');
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.95, tcp(1)), []);
    c.tick(200);
    assert.deepEqual(turns.reported(1, 0.99, tcp(1)), [], 'another forwarder busy does not count');
    assert.deepEqual(turns.reported(LEAD, 0.92, tcp(1, 3)), [1, 3]);
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.97, tcp()), [], 'no listener took connections');
  });

  it('the others join only while the machine has idle CPU for them: the share of a core', () => {
    const c = clock();
    const turns = turnsOn(c);
    c.spare = 0.6;
    turns.reported(LEAD, 0.95, tcp(1));
    for (let i = 0; i < 5; i++) {
      c.tick(200);
      assert.deepEqual(turns.reported(LEAD, 0.95, tcp(1)), [], 'no core to spare: a second forwarder would only share the time');
    }
    c.spare = 0.9;
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.95, tcp(1)), [1], '0.9 of a core idle since the last report');
    c.spare = 1.5;
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.95, tcp(1)), [1]);
    c.tick(200);
    turns.reported(LEAD, 0.2, tcp(1));
    c.tick(5000);
    assert.deepEqual(turns.reported(LEAD, 0.95, tcp(1)), [], 'idle time while the lead was not busy does not count');
    c.tick(5000);
    assert.deepEqual(turns.reported(LEAD, 0.95, tcp(1)), [], 'two busy reports with a silence between them are not in a row');
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.95, tcp(1)), [1]);
  });

  it('HTTP listeners whose clients keep their connections join while the lead is busy, idle CPU or not; short connections still need it', () => {
    const c = clock(0);
    const turns = turnsOn(c);
    const keptAlive: ListenerTraffic = { id: 4, accepted: 0, requests: 3000 };
    const newConnections: ListenerTraffic = { id: 5, accepted: 300, requests: 300 };
    assert.equal(keepsAlive(keptAlive), true);
    assert.equal(keepsAlive({ id: 4, accepted: 64, requests: 3000 }), true, 'the report where 64 clients connected and went on asking');
    assert.equal(keepsAlive(newConnections), false, 'one request per connection');
    assert.equal(keepsAlive({ id: 6, accepted: 0, requests: 3 }), false, 'a trickle of requests');
    assert.equal(keepsAlive({ id: 7, accepted: 40 }), false, 'a TCP listener');
    assert.deepEqual(turns.reported(LEAD, 0.95, [keptAlive, newConnections]), [], 'one busy report can be a collection');
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.95, [keptAlive, newConnections]), [4], 'no idle CPU: only the keep-alive listener');
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.5, [keptAlive]), [], 'the lead not busy');
    c.spare = 1;
    c.tick(200);
    turns.reported(LEAD, 0.95, [newConnections]);
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.95, [newConnections, keptAlive]), [5, 4], 'idle CPU: every listener with traffic');
  });

  it('a listener opened for its keep-alive clients goes back to the lead after two reports in a row of new connections; one opened for idle CPU waits for the quiet time', () => {
    const c = clock(0);
    const turns = turnsOn(c);
    const keptAlive: ListenerTraffic = { id: 4, accepted: 0, requests: 3000 };
    const shortOnes: ListenerTraffic = { id: 4, accepted: 200, requests: 200 };
    turns.reported(LEAD, 0.95, [keptAlive]);
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.95, [keptAlive]), [4]);
    assert.deepEqual(turns.lapsed([keptAlive]), []);
    assert.deepEqual(turns.lapsed([shortOnes]), [], 'one report of new connections');
    assert.deepEqual(turns.lapsed([keptAlive]), [], 'keep-alive again: the count starts over');
    assert.deepEqual(turns.lapsed([shortOnes]), []);
    assert.deepEqual(turns.lapsed([{ id: 9, accepted: 5, requests: 5 }, shortOnes]), [4], 'two in a row');
    assert.deepEqual(turns.lapsed([shortOnes]), [], 'gone back once');

    // Opened for idle CPU: new connections are what it was opened for.
    c.spare = 1;
    c.tick(200);
    turns.reported(LEAD, 0.95, [shortOnes]);
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.95, [shortOnes]), [4]);
    for (let i = 0; i < 4; i++) assert.deepEqual(turns.lapsed([shortOnes]), []);
    // Opened for keep-alive clients, then every listener back with the lead: nothing left to lapse.
    c.spare = 0;
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.95, [keptAlive]), [4]);
    turns.narrowed();
    turns.lapsed([shortOnes]);
    assert.deepEqual(turns.lapsed([shortOnes]), []);
  });

  it('they leave once all forwarders together stayed under half the share for the quiet time; reports grow stale', () => {
    const c = clock();
    // The quiet time these ticks are counted against, whatever the default.
    const turns = turnsOn(c, 2, 0.8, 2000);
    turns.reported(LEAD, 0.9, tcp(7));
    c.tick(200);
    assert.deepEqual(turns.reported(LEAD, 0.9, tcp(7)), [7]);
    c.tick(1000);
    assert.equal(turns.quiet(), false);
    // 0.25 + 0.2 = 0.45: above half of 0.8, still too much for the lead alone.
    turns.reported(LEAD, 0.25, tcp(7));
    turns.reported(1, 0.2, tcp(7));
    c.tick(300);
    assert.equal(turns.quiet(), false);
    c.tick(1900);
    assert.equal(turns.quiet(), false, 'the last busy moment was 300 ms before the reports went stale');
    c.tick(200);
    assert.equal(turns.quiet(), true, 'no report for a while: the forwarders are idle');
  });

  it('the lead gone resets the quiet time; one forwarder or a share of 0: everyone accepts from the start', () => {
    const c = clock();
    const turns = turnsOn(c, 3, 0.9, 2000);
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
