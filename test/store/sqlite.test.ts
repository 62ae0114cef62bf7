import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION } from '../../src/store/sqlite/migrations';
import { SqliteStore } from '../../src/store/sqlite';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tclocal-store-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const rec = (id: string, createdAt: number, data: Record<string, unknown>, parent: string | null = null, status: string | null = null) => ({
  kind: 'test.item', id, parent, status, createdAt, data,
});

describe('SQLite store', () => {
  it('keeps accounts apart', async () => {
    const s = new SqliteStore({ inMemory: true });
    await s.transaction('A', (tx) => tx.put(rec('x', 1, { v: 1 })));
    assert.equal(await s.transaction('B', (tx) => tx.get('test.item', 'x')), undefined);
    assert.deepEqual((await s.transaction('A', (tx) => tx.get('test.item', 'x')))?.data, { v: 1 });
    assert.equal((await s.transaction('B', (tx) => tx.list('test.item'))).total, 0);
    await s.close();
  });

  it('onCommit reports the kinds each account wrote (keyed values as kv:ns) and resets as everything, not rolled-back work; accounts() lists writers', async () => {
    const s = new SqliteStore({ inMemory: true });
    const seen: Array<Record<string, string[]>> = [];
    s.onCommit((changes) => seen.push(Object.fromEntries([...changes].map(([a, kinds]) => [a, [...kinds].sort()]))));
    await s.transaction('A', (tx) => tx.put(rec('x', 1, { v: 1 })));
    assert.deepEqual(seen.pop(), { A: ['test.item'] });
    await s.transaction('A', (tx) => tx.put({ ...rec('y', 1, {}), kind: 'test.other' }));
    assert.deepEqual(seen.pop(), { A: ['test.other'] }, 'another kind is reported as itself');
    await s.transaction('B', (tx) => tx.kvPut('test.ns', 'k', 1));
    assert.deepEqual(seen.pop(), { B: ['kv:test.ns'] });
    await s.transaction('B', (tx) => tx.kvDelete('test.ns', 'k'));
    assert.deepEqual(seen.pop(), { B: ['kv:test.ns'] });
    await assert.rejects(s.transaction('A', async (tx) => {
      await tx.put(rec('w', 1, {}));
      throw new Error('rolled back');
    }));
    await s.transaction('A', (tx) => tx.get('test.item', 'x'));
    assert.deepEqual(seen, [], 'rolled-back writes and reads report nothing');
    assert.deepEqual((await s.accounts()).sort(), ['A']);
    await s.transaction('C', (tx) => tx.put(rec('z', 1, {})));
    assert.deepEqual((await s.accounts()).sort(), ['A', 'C']);
    seen.length = 0;
    await s.reset();
    assert.deepEqual(seen, [{ '*': ['*'] }]);
    assert.deepEqual(await s.accounts(), []);
    await s.close();
  });

  it('lists with filters, status, parent, ids, order and paging; total is the whole match', async () => {
    const s = new SqliteStore({ inMemory: true });
    s.ensureFieldIndex('test.item', 'Region');
    await s.transaction('A', async (tx) => {
      for (let i = 0; i < 50; i++) {
        await tx.put(rec(`i${i}`, 1000 + i, { Region: i % 2 ? 'Beijing' : 'Hongkong', Size: 50 - i, Flag: i % 5 === 0 }, i < 10 ? 'p1' : 'p2', i % 3 ? 'RUNNING' : 'CLOSED'));
      }
    });
    const page = await s.transaction('A', (tx) => tx.list<{ Region: string }>('test.item', { where: [{ field: 'Region', values: ['Beijing'] }], descending: true, offset: 5, limit: 10 }));
    assert.equal(page.total, 25);
    assert.equal(page.items.length, 10);
    assert.equal(page.items[0].id, 'i39');
    assert.ok(page.items.every((r) => r.data.Region === 'Beijing'));
    const byStatus = await s.transaction('A', (tx) => tx.list('test.item', { statusIn: ['CLOSED'], parent: 'p1' }));
    assert.deepEqual(byStatus.items.map((r) => r.id), ['i0', 'i3', 'i6', 'i9']);
    const byIds = await s.transaction('A', (tx) => tx.list('test.item', { ids: ['i1', 'i2', 'nope'] }));
    assert.equal(byIds.total, 2);
    const bySize = await s.transaction('A', (tx) => tx.list('test.item', { orderField: 'Size', limit: 1 }));
    assert.equal(bySize.items[0].id, 'i49');
    const flagged = await s.transaction('A', (tx) => tx.list('test.item', { where: [{ field: 'Flag', values: [true] }] }));
    assert.equal(flagged.total, 10);
    await s.close();
  });

  it('rolls back a failed transaction whole', async () => {
    const s = new SqliteStore({ inMemory: true });
    await assert.rejects(
      s.transaction('A', async (tx) => {
        await tx.put(rec('a', 1, {}));
        await tx.kvPut('ns', 'k', { v: 1 });
        throw new Error('boom');
      }),
    );
    assert.equal(await s.transaction('A', (tx) => tx.get('test.item', 'a')), undefined);
    assert.equal(await s.transaction('A', (tx) => tx.kvGet('ns', 'k')), undefined);
    await s.close();
  });

  it('serialises concurrent transactions even when they await', async () => {
    const s = new SqliteStore({ inMemory: true });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.transaction('A', async (tx) => {
          const n = await tx.nextSequence('seq');
          await new Promise((r) => setTimeout(r, 1));
          await tx.put(rec(`s${n}`, i, { n }));
        }),
      ),
    );
    assert.equal((await s.transaction('A', (tx) => tx.list('test.item'))).total, 20);
    await s.close();
  });

  it('persists across reopen, migrates a fresh file, refuses a newer schema', async () => {
    const dir = tempDir();
    let s = new SqliteStore({ dataDir: dir });
    await s.transaction('A', (tx) => tx.put(rec('kept', 1, { ok: true })));
    await s.close();
    s = new SqliteStore({ dataDir: dir });
    assert.deepEqual((await s.transaction('A', (tx) => tx.get('test.item', 'kept')))?.data, { ok: true });
    await s.close();
    const raw = new Database(join(dir, 'tclocal.db'));
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    raw.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SCHEMA_VERSION + 1));
    raw.close();
    assert.throws(() => new SqliteStore({ dataDir: dir }), /newer/);
  });

  it('a worker thread copies the write-ahead log into the database file while the store runs', async () => {
    const dir = tempDir();
    const s = new SqliteStore({ dataDir: dir });
    const file = join(dir, 'tclocal.db');
    const before = statSync(file).size;
    const blob = 'x'.repeat(1000);
    for (let batch = 0; batch < 10; batch++) {
      await s.transaction('A', async (tx) => {
        for (let i = 0; i < 100; i++) await tx.put(rec(`r${batch}-${i}`, i, { blob }));
      });
    }
    // About 1 MB, below even SQLite's own automatic checkpoint (1000 pages): only the worker moves it into the file.
    let grown = false;
    for (let i = 0; i < 200 && !grown; i++) {
      grown = statSync(file).size > before + 500_000;
      if (!grown) await sleep(50);
    }
    await s.close();
    assert.ok(grown, 'the database file received the logged pages');
  });

  it('group commit: concurrent requests share a commit, a failing one rolls back alone, each is committed when answered', async () => {
    const dir = tempDir();
    const s = new SqliteStore({ dataDir: dir });
    const other = () => new Database(join(dir, 'tclocal.db'), { readonly: true });
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        s.transaction('A', async (tx) => {
          await tx.put(rec(`g${i}`, i, { i }));
          if (i % 7 === 3) throw new Error(`request ${i} fails`);
          return i;
        }).then((v) => {
          // Answered only once committed: another connection already sees it.
          const db = other();
          const seen = db.prepare("SELECT count(*) FROM resources WHERE id = ?").pluck().get(`g${v}`);
          db.close();
          assert.equal(seen, 1, `g${v} answered before its commit`);
          return v;
        }),
      ),
    );
    const failed = results.filter((r) => r.status === 'rejected').length;
    assert.equal(failed, 4);
    const db = other();
    const ids = db.prepare("SELECT id FROM resources WHERE kind = 'test.item' ORDER BY created_at").pluck().all();
    db.close();
    assert.deepEqual(ids, Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 7 !== 3).map((i) => `g${i}`));
    await s.close();
  });

  it('a read is answered at once unless its batch already holds a write; then it waits for the COMMIT', async () => {
    const dir = tempDir();
    const s = new SqliteStore({ dataDir: dir });
    await s.transaction('A', (tx) => tx.put(rec('base', 1, { v: 0 })));
    const committed = (id: string) => {
      const db = new Database(join(dir, 'tclocal.db'), { readonly: true });
      const n = db.prepare('SELECT count(*) FROM resources WHERE id = ?').pluck().get(id);
      db.close();
      return n;
    };
    const order: string[] = [];
    await Promise.all([
      s.transaction('A', (tx) => tx.get('test.item', 'base')).then(() => order.push(`read before the write, w committed: ${committed('w')}`)),
      s.transaction('A', (tx) => tx.put(rec('w', 2, { v: 1 }))).then(() => order.push(`write, committed: ${committed('w')}`)),
      s.transaction('A', (tx) => tx.get('test.item', 'w')).then((r) => order.push(`read of ${r?.id}, committed: ${committed('w')}`)),
    ]);
    assert.deepEqual(order, ['read before the write, w committed: 0', 'write, committed: 1', 'read of w, committed: 1']);
    await s.close();
  });

  it('drops field indexes that no service declares any more', async () => {
    const dir = tempDir();
    let s = new SqliteStore({ dataDir: dir });
    s.ensureFieldIndex('test.item', 'Old');
    s.ensureFieldIndex('test.item', 'Kept');
    await s.close();
    s = new SqliteStore({ dataDir: dir });
    s.ensureFieldIndex('test.item', 'Kept');
    s.dropUndeclaredFieldIndexes();
    await s.close();
    const raw = new Database(join(dir, 'tclocal.db'));
    const names = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'fx%'").pluck().all();
    raw.close();
    assert.deepEqual(names, ['fx_test_item_Kept']);
  });

  it('exports and imports the whole state', async () => {
    const a = new SqliteStore({ inMemory: true });
    await a.transaction('A', async (tx) => {
      await tx.put(rec('x', 5, { deep: { list: [1, 2] } }, 'p', 'RUNNING'));
      await tx.kvPut('tokens', 't1', { id: 'x' });
      await tx.nextSequence('dns');
      await tx.schedule('svc', 'finish', 123, { id: 'x' });
    });
    const dump = JSON.parse(JSON.stringify(await a.exportState()));
    const b = new SqliteStore({ inMemory: true });
    await b.transaction('A', (tx) => tx.put(rec('gone', 1, {})));
    await b.importState(dump);
    assert.deepEqual(await b.exportState().then((d) => d.tables), dump.tables);
    assert.equal(await b.transaction('A', (tx) => tx.get('test.item', 'gone')), undefined);
    assert.equal(await b.transaction('A', (tx) => tx.nextSequence('dns')), 2);
    assert.equal(await b.nextDueAt(), 123);
    await assert.rejects(b.importState({ nonsense: true } as any), /tclocal-state/);
    await a.close();
    await b.close();
  });
});
