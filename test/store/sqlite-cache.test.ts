import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite';
import type { ListQuery } from '../../src/store/types';

/**
 * The store keeps the totals and small pages of lists until a write to the
 * same account and kind: every way state changes must show in the next list.
 */

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const rec = (id: string, createdAt: number, data: Record<string, unknown>, kind = 'test.item') => ({
  kind, id, parent: null, status: 'RUNNING', createdAt, data,
});

const byRegion = (region: string, limit = 5): ListQuery => ({ where: [{ field: 'Region', values: [region] }], descending: true, limit });

async function fill(s: SqliteStore, account: string, n: number): Promise<void> {
  await s.transaction(account, async (tx) => {
    for (let i = 0; i < n; i++) await tx.put(rec(`i${i}`, 1000 + i, { Region: i % 2 ? 'Beijing' : 'Hongkong', N: i }));
  });
}

const page = (s: SqliteStore, account: string, q: ListQuery, kind = 'test.item') =>
  s.transaction(account, (tx) => tx.list<{ Region: string; N: number }>(kind, q));

describe('SQLite store list caches', () => {
  it('uses a partial index per kind, named by kind and field', async () => {
    const s = new SqliteStore({ inMemory: true });
    s.ensureFieldIndex('test.item', 'Region');
    const db = (s as unknown as { db: Database.Database }).db;
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT id FROM resources WHERE account = ? AND kind = 'test.item' AND json_extract(data, '$.Region') IN (?) ORDER BY created_at DESC, rowid DESC LIMIT 5").all('A', 'x') as Array<{ detail: string }>;
    assert.match(plan.map((p) => p.detail).join(' '), /fx_test_item_Region/);
    assert.doesNotMatch(plan.map((p) => p.detail).join(' '), /TEMP B-TREE/);
    assert.throws(() => s.ensureFieldIndex("bad'kind", 'Region'), /invalid kind/);
    await s.close();
  });

  it('sees puts, updates and deletes of the same kind in the next list', async () => {
    const s = new SqliteStore({ inMemory: true });
    s.ensureFieldIndex('test.item', 'Region');
    await fill(s, 'A', 10);
    let p = await page(s, 'A', byRegion('Beijing'));
    assert.equal(p.total, 5);
    assert.deepEqual(p.items.map((r) => r.id), ['i9', 'i7', 'i5', 'i3', 'i1']);
    // Same answer twice (served from the cache the second time).
    assert.deepEqual(await page(s, 'A', byRegion('Beijing')), p);

    await s.transaction('A', (tx) => tx.put(rec('new', 5000, { Region: 'Beijing', N: 99 })));
    p = await page(s, 'A', byRegion('Beijing'));
    assert.equal(p.total, 6);
    assert.equal(p.items[0].id, 'new');

    await s.transaction('A', (tx) => tx.put(rec('i9', 1009, { Region: 'Hongkong', N: 9 })));
    p = await page(s, 'A', byRegion('Beijing'));
    assert.equal(p.total, 5);
    assert.ok(!p.items.some((r) => r.id === 'i9'));

    await s.transaction('A', (tx) => tx.delete('test.item', 'new'));
    p = await page(s, 'A', byRegion('Beijing'));
    assert.equal(p.total, 4);
    assert.equal(p.items[0].id, 'i7');
    await s.close();
  });

  it('sees a write made earlier in the same transaction', async () => {
    const s = new SqliteStore({ inMemory: true });
    await fill(s, 'A', 4);
    await s.transaction('A', async (tx) => {
      assert.equal((await tx.list('test.item', byRegion('Beijing'))).total, 2);
      await tx.put(rec('t', 9000, { Region: 'Beijing' }));
      const p = await tx.list('test.item', byRegion('Beijing'));
      assert.equal(p.total, 3);
      assert.equal(p.items[0].id, 't');
    });
    await s.close();
  });

  it('forgets what a rolled-back transaction read after its writes', async () => {
    const s = new SqliteStore({ inMemory: true });
    await fill(s, 'A', 4);
    await assert.rejects(
      s.transaction('A', async (tx) => {
        await tx.put(rec('ghost', 9000, { Region: 'Beijing' }));
        assert.equal((await tx.list('test.item', byRegion('Beijing'))).total, 3);
        throw new Error('boom');
      }),
    );
    const p = await page(s, 'A', byRegion('Beijing'));
    assert.equal(p.total, 2);
    assert.ok(!p.items.some((r) => r.id === 'ghost'));
    await s.close();
  });

  it('hands out fresh objects: a caller changing a listed record does not change the next list', async () => {
    const s = new SqliteStore({ inMemory: true });
    await fill(s, 'A', 4);
    const first = await page(s, 'A', byRegion('Beijing'));
    first.items[0].data.Region = 'changed in memory';
    const again = await page(s, 'A', byRegion('Beijing'));
    assert.equal(again.items[0].data.Region, 'Beijing');
    (again.items[0].data as Record<string, unknown>).Region = 'changed again';
    const third = await page(s, 'A', byRegion('Beijing'));
    assert.equal(third.items[0].data.Region, 'Beijing');
    assert.notEqual(third.items[0].data, again.items[0].data);
    await s.close();
  });

  it('copies cached records exactly, nested values and odd keys included', async () => {
    const s = new SqliteStore({ inMemory: true });
    const data = JSON.parse('{"Region":"Beijing","__proto__":{"x":1},"Nested":{"List":[1,"two",null,{"Deep":[true,false]}],"Empty":{}},"Neg":-0.5,"Null":null}');
    await s.transaction('A', (tx) => tx.put(rec('odd', 1, data)));
    const reads = [];
    for (let i = 0; i < 3; i++) reads.push((await page(s, 'A', byRegion('Beijing'))).items[0].data);
    for (const r of reads) {
      assert.equal(JSON.stringify(r), JSON.stringify(data));
      assert.equal(Object.getPrototypeOf(r), Object.prototype);
    }
    assert.notEqual(reads[1], reads[2]);
    assert.notEqual((reads[1] as any).Nested, (reads[2] as any).Nested);
    await s.close();
  });

  it('listJson answers the same page as list, as one JSON array of the stored text, shared until a write', async () => {
    const s = new SqliteStore({ inMemory: true });
    s.ensureFieldIndex('test.item', 'Region');
    await fill(s, 'A', 10);
    const seen: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      const [listed, raw] = await s.transaction('A', async (tx) => [
        await tx.list('test.item', byRegion('Beijing', 3)),
        await tx.listJson('test.item', byRegion('Beijing', 3)),
      ] as const);
      assert.equal(raw.total, listed.total);
      assert.deepEqual(JSON.parse(raw.json.toString('utf8')), listed.items.map((r) => r.data));
      seen.push(raw.json);
    }
    // The page's bytes are built once and shared by later readers.
    assert.equal(seen[1], seen[0]);
    assert.equal(seen[2], seen[0]);
    await s.transaction('A', (tx) => tx.put(rec('late', 9000, { Region: 'Beijing', N: 100 })));
    const after = await s.transaction('A', (tx) => tx.listJson('test.item', byRegion('Beijing', 3)));
    assert.equal(after.total, 6);
    assert.notEqual(after.json, seen[0]);
    assert.equal(JSON.parse(after.json.toString('utf8'))[0].N, 100);
    const none = await s.transaction('A', (tx) => tx.listJson('test.item', byRegion('Nowhere', 3)));
    assert.deepEqual({ total: none.total, json: none.json.toString() }, { total: 0, json: '[]' });
    await s.close();
  });

  it('keeps accounts and kinds apart, and tells 1 from "1"', async () => {
    const s = new SqliteStore({ inMemory: true });
    await fill(s, 'A', 6);
    await fill(s, 'B', 2);
    assert.equal((await page(s, 'A', byRegion('Beijing'))).total, 3);
    assert.equal((await page(s, 'B', byRegion('Beijing'))).total, 1);
    await s.transaction('A', (tx) => tx.put(rec('o', 1, { Region: 'Beijing' }, 'test.other')));
    assert.equal((await page(s, 'A', byRegion('Beijing'), 'test.other')).total, 1);
    assert.equal((await page(s, 'A', byRegion('Beijing'))).total, 3);
    await s.transaction('A', (tx) => tx.put(rec('num', 1, { V: 1 }, 'test.typed')));
    await s.transaction('A', (tx) => tx.put(rec('str', 2, { V: '1' }, 'test.typed')));
    const num = await page(s, 'A', { where: [{ field: 'V', values: [1] }] }, 'test.typed');
    const str = await page(s, 'A', { where: [{ field: 'V', values: ['1'] }] }, 'test.typed');
    assert.deepEqual(num.items.map((r) => r.id), ['num']);
    assert.deepEqual(str.items.map((r) => r.id), ['str']);
    await s.close();
  });

  it('sees imports, resets and commits made by another connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tclocal-store-cache-'));
    dirs.push(dir);
    const s = new SqliteStore({ dataDir: dir });
    await fill(s, 'A', 4);
    assert.equal((await page(s, 'A', byRegion('Beijing'))).total, 2);

    const other = new Database(join(dir, 'tclocal.db'));
    other.prepare("INSERT INTO resources (account, kind, id, parent, status, created_at, data) VALUES ('A', 'test.item', 'ext', NULL, NULL, 7000, ?)").run(JSON.stringify({ Region: 'Beijing' }));
    await other.close();
    const p = await page(s, 'A', byRegion('Beijing'));
    assert.equal(p.total, 3);
    assert.equal(p.items[0].id, 'ext');

    const dump = await s.exportState();
    await s.reset();
    assert.equal((await page(s, 'A', byRegion('Beijing'))).total, 0);
    await s.importState(dump);
    assert.equal((await page(s, 'A', byRegion('Beijing'))).total, 3);
    await s.close();
  });
});
