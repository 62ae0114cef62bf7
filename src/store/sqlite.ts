import type Database from 'better-sqlite3';
import { checkDump } from './dump-check';
import { DUMP_ORDER, DUMP_TABLES, MOVE_GAAP_STATS, SCHEMA_VERSION } from './sqlite/migrations';
import { ListCache } from './sqlite/cache';
import { openDatabase, startCheckpointer, type CheckpointThread, type SqliteOptions } from './sqlite/connection';
import { GroupCommit } from './sqlite/group-commit';
import { checkField, kindTerm, type SqlValue } from './sqlite/sql';
import { SqliteTx, type TxHost } from './sqlite/transaction';
import type { CommitChanges, CommitRecords, ScheduledTransition, StateDump, Store, StoreTx } from './types';

export type { SqliteOptions } from './sqlite/connection';

/**
 * The SQLite store, composed of its parts under sqlite/: the connection and
 * its migrations, the list caches, group commit and the request transaction.
 * What stays here is the work on the whole store: transitions, inventory,
 * field indexes, export, import and reset.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly fieldIndexes = new Set<string>();
  private readonly fieldIndexNames = new Set<string>();
  private readonly cache = new ListCache();
  private readonly commits: GroupCommit;
  private readonly host: TxHost;
  private checkpointer: CheckpointThread | undefined;
  private checkpointerExit: Promise<void> = Promise.resolve();

  constructor(options: SqliteOptions) {
    this.db = openDatabase(options);
    this.commits = new GroupCommit(
      this.db,
      (sql) => this.stmt(sql),
      () => this.cache.sawDataVersion(this.stmt('PRAGMA data_version').pluck().get() as number),
      () => this.cache.invalidateAll(),
    );
    this.host = { stmt: (sql) => this.stmt(sql), begin: () => this.commits.begin(), cache: this.cache };
    if (!options.inMemory) {
      this.checkpointer = startCheckpointer(this.db);
      if (this.checkpointer) this.checkpointerExit = this.checkpointer.exited;
    }
  }

  /** Prepared statements are cached by their SQL text. */
  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  transaction<T>(account: string, fn: (tx: StoreTx) => Promise<T> | T): Promise<T> {
    return this.commits.run(account, () => new SqliteTx(this.host, account), fn);
  }

  onCommit(fn: (changes: CommitChanges, records: CommitRecords | undefined) => void): () => void {
    return this.commits.onCommit(fn);
  }

  async accountsWith(kind: string): Promise<string[]> {
    return this.commits.mutex.run(async () => this.stmt('SELECT DISTINCT account FROM resources WHERE kind = ? ORDER BY account').pluck().all(kind) as string[]);
  }

  async trimSeries(prefix: string, before: number): Promise<number> {
    return this.commits.mutex.run(async () => {
      this.commits.commit();
      return this.stmt('DELETE FROM series WHERE t < ? AND key >= ? AND key < ?').run(before, prefix, `${prefix}\uffff`).changes;
    });
  }

  async accounts(): Promise<string[]> {
    const known = this.cache.knownAccounts();
    if (known) return known;
    return this.commits.mutex.run(async () => {
      const epoch = this.cache.epoch;
      const list = this.stmt('SELECT DISTINCT account FROM resources').pluck().all() as string[];
      this.cache.rememberAccounts(list, epoch);
      return list;
    });
  }

  async dueTransitions(now: number, limit: number): Promise<ScheduledTransition[]> {
    const rows = this.stmt('SELECT * FROM transitions WHERE due_at <= ? ORDER BY due_at, id LIMIT ?').all(now, limit) as TransitionRow[];
    return rows.map(transitionOf);
  }

  async pendingTransitions(account: string, limit: number): Promise<ScheduledTransition[]> {
    const rows = this.stmt('SELECT * FROM transitions WHERE account = ? ORDER BY due_at, id LIMIT ?').all(account, limit) as TransitionRow[];
    return rows.map(transitionOf);
  }

  async inventory(): Promise<Array<{ account: string; kind: string; count: number }>> {
    return this.stmt('SELECT account, kind, count(*) AS count FROM resources GROUP BY account, kind ORDER BY account, kind').all() as Array<{
      account: string; kind: string; count: number;
    }>;
  }

  async completeTransition(tx: StoreTx, id: number): Promise<void> {
    (tx as SqliteTx).deleteTransition(id);
  }

  async nextDueAt(): Promise<number | undefined> {
    const row = this.stmt('SELECT min(due_at) AS due FROM transitions').get() as { due: number | null };
    return row.due ?? undefined;
  }

  ensureFieldIndex(kind: string, field: string): void {
    const key = `${kind}:${checkField(field)}`;
    if (this.fieldIndexes.has(key)) return;
    const term = kindTerm(kind);
    if (!term) throw new Error(`invalid kind for a field index: ${kind}`);
    const suffix = `${kind}_${field}`.replace(/[^A-Za-z0-9_]/g, '_');
    // Earlier data directories hold a full-table index under the old name: every write paid for it.
    this.db.exec(`DROP INDEX IF EXISTS "ix_${suffix}"`);
    this.db.exec(
      `CREATE INDEX IF NOT EXISTS "fx_${suffix}" ON resources (account, json_extract(data, '$.${field}'), created_at) WHERE ${term}`,
    );
    this.fieldIndexNames.add(`fx_${suffix}`);
    this.fieldIndexes.add(key);
  }

  dropUndeclaredFieldIndexes(): void {
    const existing = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'fx\\_%' ESCAPE '\\'").pluck().all() as string[];
    for (const name of existing) if (!this.fieldIndexNames.has(name)) this.db.exec(`DROP INDEX IF EXISTS "${name}"`);
  }

  async exportState(): Promise<StateDump> {
    const tables: StateDump['tables'] = {};
    for (const [table, columns] of Object.entries(DUMP_TABLES)) {
      tables[table] = this.db.prepare(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY ${DUMP_ORDER[table] ?? 'rowid'}`).all() as Record<string, unknown>[];
    }
    return { format: 'tclocal-state', schemaVersion: SCHEMA_VERSION, exportedAt: new Date().toISOString(), tables };
  }

  async importState(dump: StateDump): Promise<void> {
    if (dump?.format !== 'tclocal-state' || typeof dump.tables !== 'object') {
      throw new Error('not a tclocal state export (missing "format": "tclocal-state")');
    }
    if (dump.schemaVersion > SCHEMA_VERSION) {
      throw new Error(`the export has schema version ${dump.schemaVersion}, newer than this tclocal (${SCHEMA_VERSION})`);
    }
    checkDump(dump);
    await this.commits.mutex.run(async () => {
      this.commits.commit();
      this.cache.invalidateAll();
      this.db.transaction(() => {
        for (const [table, columns] of Object.entries(DUMP_TABLES)) {
          this.db.exec(`DELETE FROM ${table}`);
          const insert = this.db.prepare(
            `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
          );
          for (const row of dump.tables[table] ?? []) insert.run(...columns.map((c) => (row[c] ?? null) as SqlValue));
        }
        if (dump.schemaVersion < 2) this.db.exec(MOVE_GAAP_STATS);
      })();
    });
    this.commits.notify(EVERYTHING);
  }

  async reset(): Promise<void> {
    await this.commits.mutex.run(async () => {
      this.commits.commit();
      this.cache.invalidateAll();
      this.db.transaction(() => {
        for (const table of Object.keys(DUMP_TABLES)) this.db.exec(`DELETE FROM ${table}`);
      })();
    });
    this.commits.notify(EVERYTHING);
  }

  /** Waits for the checkpoint thread too: until it exits, it may still create or remove the log files. */
  async close(): Promise<void> {
    if (this.db.open) this.commits.commit();
    this.checkpointer?.stop();
    this.checkpointer = undefined;
    if (this.db.open) this.db.close();
    await this.checkpointerExit;
  }
}

interface TransitionRow {
  id: number; account: string; service: string; type: string; due_at: number; payload: string;
}

const transitionOf = (r: TransitionRow): ScheduledTransition => ({
  id: r.id, account: r.account, service: r.service, type: r.type, dueAt: r.due_at, payload: JSON.parse(r.payload),
});

const EVERYTHING: CommitChanges = new Map([['*', new Set(['*'])]]);
