import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { TransitionEngine } from '../../src/core/transitions';
import type { TransitionHandler } from '../../src/services/types';
import { SqliteStore } from '../../src/store/sqlite';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'tclocal-transitions-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const handlers = new Map<string, TransitionHandler>([
  [
    'svc:finish',
    async (p: { id: string }, tx) => {
      const r = await tx.get('svc.thing', p.id);
      if (r) await tx.put({ ...r, status: 'RUNNING' });
    },
  ],
]);

async function waitFor(check: () => Promise<boolean>, ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe('transition scheduler', () => {
  it('applies a transition when due, and one scheduled before a restart after it', async () => {
    let store = new SqliteStore({ dataDir: dir });
    const status = (s: SqliteStore, id: string) => s.transaction('A', (tx) => tx.get('svc.thing', id)).then((r) => r?.status);
    // Far enough apart that a slow machine still sees the first applied before the second is due.
    const laterDue = Date.now() + 1500;
    await store.transaction('A', async (tx) => {
      await tx.put({ kind: 'svc.thing', id: 'soon', parent: null, status: 'CREATING', createdAt: 1, data: {} });
      await tx.put({ kind: 'svc.thing', id: 'later', parent: null, status: 'CREATING', createdAt: 1, data: {} });
      await tx.schedule('svc', 'finish', Date.now() + 50, { id: 'soon' });
      await tx.schedule('svc', 'finish', laterDue, { id: 'later' });
    });
    let engine = new TransitionEngine(store, handlers, { mode: 'auto' }, log);
    engine.start();
    assert.ok(await waitFor(async () => (await status(store, 'soon')) === 'RUNNING', 2000));
    assert.equal(await status(store, 'later'), 'CREATING');
    // Stop before the second is due, as a crash would.
    engine.stop();
    await store.close();
    await new Promise((r) => setTimeout(r, Math.max(0, laterDue - Date.now()) + 50));
    store = new SqliteStore({ dataDir: dir });
    assert.equal(await status(store, 'later'), 'CREATING');
    engine = new TransitionEngine(store, handlers, { mode: 'auto' }, log);
    engine.start();
    assert.ok(await waitFor(async () => (await status(store, 'later')) === 'RUNNING', 2000));
    engine.stop();
    await store.close();
  });

  it('manual mode applies nothing until advanced, then everything', async () => {
    const store = new SqliteStore({ inMemory: true });
    await store.transaction('A', async (tx) => {
      await tx.put({ kind: 'svc.thing', id: 'm', parent: null, status: 'CREATING', createdAt: 1, data: {} });
      await tx.schedule('svc', 'finish', Date.now() + 3_600_000, { id: 'm' });
    });
    const engine = new TransitionEngine(store, handlers, { mode: 'manual' }, log);
    engine.start();
    engine.notify(Date.now());
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await store.transaction('A', (tx) => tx.get('svc.thing', 'm')))?.status, 'CREATING');
    assert.equal(await engine.advanceAll(), 1);
    assert.equal((await store.transaction('A', (tx) => tx.get('svc.thing', 'm')))?.status, 'RUNNING');
    assert.equal(await store.nextDueAt(), undefined);
    engine.stop();
    await store.close();
  });
});
