import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DUMP_TABLES, migrations, SCHEMA_VERSION } from './migrations';
import type {
  ListQuery, ListResult, ResourceRecord, ScheduledTransition, StateDump, Store, StoreTx,
} from './types';

type Row = { kind: string; id: string; parent: string | null; status: string | null; created_at: number; data: string };
type SqlValue = string | number | null;

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

function checkField(field: string): string {
  if (!FIELD_NAME.test(field)) throw new Error(`invalid field name for a store query: ${field}`);
  return field;
}

const toSql = (v: string | number | boolean): SqlValue => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

const fromRow = <T>(row: Row): ResourceRecord<T> => ({
  kind: row.kind,
  id: row.id,
  parent: row.parent,
  status: row.status,
  createdAt: row.created_at,
  data: JSON.parse(row.data) as T,
});

/** Serialises transactions: one at a time, even when a handler awaits. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export interface SqliteOptions {
  /** Directory for the database file; ignored when inMemory. */
  dataDir?: string;
  inMemory?: boolean;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly mutex = new Mutex();
  private readonly statements = new Map<string, Database.Statement>();
  private readonly fieldIndexes = new Set<string>();

  constructor(options: SqliteOptions) {
    if (options.inMemory) {
      this.db = new Database(':memory:');
    } else {
      const dir = options.dataDir ?? '.tclocal';
      mkdirSync(dir, { recursive: true });
      this.db = new Database(join(dir, 'tclocal.db'));
      this.db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a committed transaction survives a crash of the
      // process (kill -9); only a power loss could drop the last commits.
      this.db.pragma('synchronous = NORMAL');
    }
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    const current = row ? Number(row.value) : 0;
    if (current > SCHEMA_VERSION) {
      throw new Error(`the data directory holds schema version ${current}, newer than this tclocal (${SCHEMA_VERSION})`);
    }
    if (current === SCHEMA_VERSION) return;
    this.db.transaction(() => {
      for (let v = current; v < SCHEMA_VERSION; v++) this.db.exec(migrations[v]);
      this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
    })();
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
    return this.mutex.run(async () => {
      const tx = new SqliteTx(this, account);
      try {
        const result = await fn(tx);
        if (tx.begun) this.stmt('COMMIT').run();
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.stmt('ROLLBACK').run();
        throw err;
      }
    });
  }

  async dueTransitions(now: number, limit: number): Promise<ScheduledTransition[]> {
    const rows = this.stmt('SELECT * FROM transitions WHERE due_at <= ? ORDER BY due_at, id LIMIT ?').all(now, limit) as Array<{
      id: number; account: string; service: string; type: string; due_at: number; payload: string;
    }>;
    return rows.map((r) => ({
      id: r.id, account: r.account, service: r.service, type: r.type, dueAt: r.due_at, payload: JSON.parse(r.payload),
    }));
  }

  async completeTransition(_tx: StoreTx, id: number): Promise<void> {
    this.stmt('DELETE FROM transitions WHERE id = ?').run(id);
  }

  async nextDueAt(): Promise<number | undefined> {
    const row = this.stmt('SELECT min(due_at) AS due FROM transitions').get() as { due: number | null };
    return row.due ?? undefined;
  }

  ensureFieldIndex(kind: string, field: string): void {
    const key = `${kind}:${checkField(field)}`;
    if (this.fieldIndexes.has(key)) return;
    const name = `ix_${kind}_${field}`.replace(/[^A-Za-z0-9_]/g, '_');
    this.db.exec(
      `CREATE INDEX IF NOT EXISTS "${name}" ON resources (account, kind, json_extract(data, '$.${field}'), created_at)`,
    );
    this.fieldIndexes.add(key);
  }

  async exportState(): Promise<StateDump> {
    const tables: StateDump['tables'] = {};
    for (const [table, columns] of Object.entries(DUMP_TABLES)) {
      tables[table] = this.db.prepare(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY rowid`).all() as Record<string, unknown>[];
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
    await this.mutex.run(async () => {
      this.db.transaction(() => {
        for (const [table, columns] of Object.entries(DUMP_TABLES)) {
          this.db.exec(`DELETE FROM ${table}`);
          const insert = this.db.prepare(
            `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
          );
          for (const row of dump.tables[table] ?? []) insert.run(...columns.map((c) => (row[c] ?? null) as SqlValue));
        }
      })();
    });
  }

  async reset(): Promise<void> {
    await this.mutex.run(async () => {
      this.db.transaction(() => {
        for (const table of Object.keys(DUMP_TABLES)) this.db.exec(`DELETE FROM ${table}`);
      })();
    });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

class SqliteTx implements StoreTx {
  /** The SQLite transaction starts at the first store call: requests that never touch the store cost nothing here. */
  begun = false;

  constructor(
    private readonly store: SqliteStore,
    readonly account: string,
  ) {}

  private db(): SqliteStore {
    if (!this.begun) {
      this.store.stmt('BEGIN IMMEDIATE').run();
      this.begun = true;
    }
    return this.store;
  }

  async get<T>(kind: string, id: string): Promise<ResourceRecord<T> | undefined> {
    const row = this.db()
      .stmt('SELECT kind, id, parent, status, created_at, data FROM resources WHERE account = ? AND kind = ? AND id = ?')
      .get(this.account, kind, id) as Row | undefined;
    return row && fromRow<T>(row);
  }

  async put<T>(r: ResourceRecord<T>): Promise<void> {
    this.db()
      .stmt(
        `INSERT INTO resources (account, kind, id, parent, status, created_at, data) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account, kind, id) DO UPDATE SET parent = excluded.parent, status = excluded.status,
           created_at = excluded.created_at, data = excluded.data`,
      )
      .run(this.account, r.kind, r.id, r.parent, r.status, r.createdAt, JSON.stringify(r.data));
  }

  async delete(kind: string, id: string): Promise<boolean> {
    return this.db().stmt('DELETE FROM resources WHERE account = ? AND kind = ? AND id = ?').run(this.account, kind, id).changes > 0;
  }

  async list<T>(kind: string, q: ListQuery = {}): Promise<ListResult<T>> {
    let where = 'account = ? AND kind = ?';
    const params: SqlValue[] = [this.account, kind];
    if (q.parent !== undefined) {
      if (q.parent === null) where += ' AND parent IS NULL';
      else {
        where += ' AND parent = ?';
        params.push(q.parent);
      }
    }
    const inList = (column: string, values: ReadonlyArray<string | number | boolean>) => {
      where += ` AND ${column} IN (${values.map(() => '?').join(', ')})`;
      for (const v of values) params.push(toSql(v));
    };
    if (q.ids) inList('id', q.ids);
    if (q.statusIn) inList('status', q.statusIn);
    for (const f of q.where ?? []) inList(`json_extract(data, '$.${checkField(f.field)}')`, f.values);

    const total = (this.db().stmt(`SELECT count(*) AS n FROM resources WHERE ${where}`).get(...params) as { n: number }).n;
    const dir = q.descending ? 'DESC' : 'ASC';
    const order = q.orderField
      ? `json_extract(data, '$.${checkField(q.orderField)}') ${dir}, created_at ${dir}, rowid ${dir}`
      : `created_at ${dir}, rowid ${dir}`;
    let sql = `SELECT kind, id, parent, status, created_at, data FROM resources WHERE ${where} ORDER BY ${order}`;
    const pageParams = [...params];
    if (q.limit !== undefined || q.offset) {
      sql += ' LIMIT ? OFFSET ?';
      pageParams.push(q.limit ?? -1, q.offset ?? 0);
    }
    const rows = (total === 0 ? [] : this.db().stmt(sql).all(...pageParams)) as Row[];
    return { total, items: rows.map((r) => fromRow<T>(r)) };
  }

  async kvGet<T>(ns: string, key: string): Promise<T | undefined> {
    const row = this.db().stmt('SELECT value FROM kv WHERE account = ? AND ns = ? AND key = ?').get(this.account, ns, key) as
      | { value: string }
      | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async kvPut(ns: string, key: string, value: unknown): Promise<void> {
    this.db()
      .stmt('INSERT INTO kv (account, ns, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (account, ns, key) DO UPDATE SET value = excluded.value')
      .run(this.account, ns, key, JSON.stringify(value));
  }

  async kvDelete(ns: string, key: string): Promise<void> {
    this.db().stmt('DELETE FROM kv WHERE account = ? AND ns = ? AND key = ?').run(this.account, ns, key);
  }

  async nextSequence(name: string): Promise<number> {
    const row = this.db()
      .stmt(
        `INSERT INTO sequences (account, name, value) VALUES (?, ?, 1)
         ON CONFLICT (account, name) DO UPDATE SET value = value + 1 RETURNING value`,
      )
      .get(this.account, name) as { value: number };
    return row.value;
  }

  async schedule(service: string, type: string, dueAt: number, payload: Record<string, unknown>): Promise<number> {
    const info = this.db()
      .stmt('INSERT INTO transitions (account, service, type, due_at, payload) VALUES (?, ?, ?, ?, ?)')
      .run(this.account, service, type, dueAt, JSON.stringify(payload));
    return Number(info.lastInsertRowid);
  }
}
