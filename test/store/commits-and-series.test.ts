import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { migrations } from '../../src/store/sqlite/migrations';
import { SqliteStore } from '../../src/store/sqlite';
import type { CommitChanges } from '../../src/store/types';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const item = (kind: string, id: string) => ({ kind, id, parent: null, status: null, createdAt: 1, data: { id } });
const plain = (c: CommitChanges) => Object.fromEntries([...c].map(([a, kinds]) => [a, [...kinds].sort()]));

describe('store: after-commit signal', () => {
  it('tells subscribers which accounts and kinds each commit changed, only once committed, never for reads or failures', async () => {
    const s = new SqliteStore({ inMemory: true });
    const seen: Array<Record<string, string[]>> = [];
    const off = s.onCommit((c) => seen.push(plain(c)));
    // Requests of one turn of the event loop commit together and are reported together.
    await Promise.all([
      s.transaction('A', async (tx) => {
        await tx.put(item('x.one', '1'));
        await tx.put(item('x.two', '2'));
      }),
      s.transaction('B', (tx) => tx.delete('x.one', 'nothing')),
    ]);
    assert.deepEqual(seen, [{ A: ['x.one', 'x.two'], B: ['x.one'] }]);
    await s.transaction('A', (tx) => tx.get('x.one', '1'));
    await assert.rejects(s.transaction('A', async (tx) => {
      await tx.put(item('x.three', '3'));
      throw new Error('rolled back');
    }));
    assert.equal(seen.length, 1, 'reads and rolled-back writes are not reported');
    // Keyed values are reported as kind `kv:<namespace>` (the DNS server follows GAAP's group domain settings by them).
    await s.transaction('A', (tx) => tx.kvPut('ns', 'k', 1));
    assert.deepEqual(seen.at(-1), { A: ['kv:ns'] });
    assert.equal(seen.length, 2);
    await s.reset();
    assert.deepEqual(seen.at(-1), { '*': ['*'] });
    off();
    await s.transaction('A', (tx) => tx.put(item('x.one', '1')));
    assert.equal(seen.length, 3);
    assert.deepEqual(await s.accountsWith('x.one'), ['A']);
    await s.close();
  });
});

describe('store: time series', () => {
  it('merges points by sum, max or min, reads a range, deletes by prefix, trims by age', async () => {
    const s = new SqliteStore({ inMemory: true });
    await s.transaction('A', (tx) => tx.seriesWrite([
      { key: 'k/sum', t: 60, value: 1, merge: 'sum' },
      { key: 'k/sum', t: 60, value: 2.5, merge: 'sum' },
      { key: 'k/max', t: 60, value: 4, merge: 'max' },
      { key: 'k/max', t: 60, value: 3, merge: 'max' },
      { key: 'k/min', t: 60, value: 1, merge: 'min' },
      { key: 'k/min', t: 60, value: 0, merge: 'min' },
      { key: 'k/sum', t: 120, value: 7, merge: 'sum' },
      { key: 'k/sum', t: 180, value: 9, merge: 'sum' },
    ]));
    await s.transaction('B', (tx) => tx.seriesWrite([{ key: 'k/sum', t: 60, value: 100, merge: 'sum' }]));
    const read = (key: string, from = 0, to = 1e9) => s.transaction('A', (tx) => tx.seriesRead(key, from, to));
    assert.deepEqual(await read('k/sum'), [{ t: 60, value: 3.5 }, { t: 120, value: 7 }, { t: 180, value: 9 }]);
    assert.deepEqual(await read('k/sum', 100, 150), [{ t: 120, value: 7 }]);
    assert.deepEqual(await read('k/max'), [{ t: 60, value: 4 }]);
    assert.deepEqual(await read('k/min'), [{ t: 60, value: 0 }]);
    assert.equal(await s.trimSeries('other/', 100), 0);
    assert.equal(await s.trimSeries('k/', 100), 4);
    assert.deepEqual(await read('k/sum'), [{ t: 120, value: 7 }, { t: 180, value: 9 }]);
    await s.transaction('A', (tx) => tx.seriesDelete('k/'));
    assert.deepEqual(await read('k/sum'), []);
    await s.close();
  });

  it('series and sequences shared by every account travel through export and import', async () => {
    const s = new SqliteStore({ inMemory: true });
    await s.transaction('A', async (tx) => {
      await tx.seriesWrite([{ key: 'k', t: 60, value: 1.5, merge: 'sum' }]);
      assert.equal(await tx.nextSequence('pool', 'shared'), 1);
    });
    assert.equal(await s.transaction('B', (tx) => tx.nextSequence('pool', 'shared')), 2);
    const dump = await s.exportState();
    const t = new SqliteStore({ inMemory: true });
    await t.importState(JSON.parse(JSON.stringify(dump)));
    assert.deepEqual(await t.transaction('A', (tx) => tx.seriesRead('k', 0, 100)), [{ t: 60, value: 1.5 }]);
    assert.equal(await t.transaction('C', (tx) => tx.nextSequence('pool', 'shared')), 3);
    await s.close();
    await t.close();
  });

  it('a data directory of schema 1 keeps its GAAP counters: each minute becomes a row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tclocal-series-'));
    dirs.push(dir);
    const db = new Database(join(dir, 'tclocal.db'));
    db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    db.exec(migrations[0]);
    db.prepare("INSERT INTO meta VALUES ('schema_version', '1')").run();
    db.prepare('INSERT INTO kv (account, ns, key, value) VALUES (?, ?, ?, ?)').run('A', 'gaap.stats', 'listener/listener-1/InBandwidth', JSON.stringify({ 60: 5, 120: 7.5 }));
    db.prepare('INSERT INTO kv (account, ns, key, value) VALUES (?, ?, ?, ?)').run('A', 'other', 'k', '1');
    db.close();
    const s = new SqliteStore({ dataDir: dir });
    assert.deepEqual(await s.transaction('A', (tx) => tx.seriesRead('gaap:listener/listener-1/InBandwidth', 0, 1e9)), [{ t: 60, value: 5 }, { t: 120, value: 7.5 }]);
    assert.equal(await s.transaction('A', (tx) => tx.kvGet('gaap.stats', 'listener/listener-1/InBandwidth')), undefined);
    assert.equal(await s.transaction('A', (tx) => tx.kvGet('other', 'k')), 1);
    await s.close();
  });
});
