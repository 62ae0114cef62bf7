/**
 * The Cloud Infinite transitions, run by the transition engine as the
 * server registers them (`ci:<type>`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { TransitionEngine } from '../../../src/core/transitions';
import { ciTransitions } from '../../../src/services/ci';
import { JOB_KIND, START_AUDITING, type LiveJob } from '../../../src/services/ci/jobs';
import { SqliteStore } from '../../../src/store/sqlite';

describe('CI transitions', () => {
  it('start moderation of Submitted jobs only', async () => {
    const store = new SqliteStore({ inMemory: true });
    const handlers = new Map(Object.entries(ciTransitions()).map(([type, fn]) => [`ci:${type}`, fn]));
    assert.ok(handlers.has(`ci:${START_AUDITING}`));
    const engine = new TransitionEngine(store, handlers, { mode: 'manual' }, pino({ level: 'silent' }));
    const job = (id: string, state: string): LiveJob => ({
      JobId: id, State: state, CreationTime: '2026-01-01T08:00:00+0800', Type: 'live_video', Url: 'rtmp://x/live',
      BizType: '', CallbackType: 1, Bucket: 'b-1', Region: 'ap-beijing', AuditingAt: 0,
    });
    await store.transaction('42', async (tx) => {
      for (const [id, state] of [['av1', 'Submitted'], ['av2', 'Cancelled']]) {
        await tx.put({ kind: JOB_KIND, id, parent: 'b-1', status: state, createdAt: 0, data: job(id, state) });
        await tx.schedule('ci', START_AUDITING, Date.now(), { jobId: id });
      }
      await tx.schedule('ci', START_AUDITING, Date.now(), { jobId: 'av-gone' });
    });
    assert.equal(await engine.advanceAll(), 3);
    const states = await store.transaction('42', async (tx) => [
      (await tx.get<LiveJob>(JOB_KIND, 'av1'))!.data.State,
      (await tx.get<LiveJob>(JOB_KIND, 'av2'))!.data.State,
      (await tx.get<LiveJob>(JOB_KIND, 'av1'))!.status,
    ]);
    assert.deepEqual(states, ['Auditing', 'Cancelled', 'Auditing']);
    await store.close();
  });
});
