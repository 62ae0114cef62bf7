import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CHECKPOINTER_FILE, type CheckpointerData } from './checkpointer';
import { checkDump } from './dump-check';
import { DUMP_ORDER, DUMP_TABLES, migrations, MOVE_GAAP_STATS, SCHEMA_VERSION } from './migrations';
import type {
  CommitChanges, ListQuery, ListResult, ResourceRecord, ScheduledTransition, SeriesPoint, StateDump, Store, StoreTx,
} from './types';

type Row = { kind: string; id: string; parent: string | null; status: string | null; created_at: number; data: string };
type SqlValue = string | number | null;

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Kinds are code constants (`gaap.proxy`); ones of this shape are written into SQL as literals. */
const KIND_NAME = /^[A-Za-z0-9_.:-]+$/;

function checkField(field: string): string {
  if (!FIELD_NAME.test(field)) throw new Error(`invalid field name for a store query: ${field}`);
  return field;
}

/**
 * Field indexes are partial (one kind each), so a write only maintains the
 * indexes of its own kind; a query can use them only when it names the kind
 * as the same literal.
 */
const kindTerm = (kind: string): string | undefined => (KIND_NAME.test(kind) ? `kind = '${kind}'` : undefined);

/** Bounds of the list caches: entries, the largest page kept, and the stored text of all kept pages. */
const CACHE_ENTRIES = 2000;
const CACHE_PAGE_ROWS = 100;
const CACHE_PAGE_CHARS = 8_000_000;

interface CachedCount {
  gen: number;
  epoch: number;
  n: number;
}

interface CachedPage {
  gen: number;
  epoch: number;
  rows: Row[];
  /** Parsed once the page is read a second time; callers get copies, never these objects. */
  parsed?: unknown[];
  /** The rows' data as one JSON array (pages read as bytes), shared by every reader of the page. */
  joined?: Buffer;
}

interface PageRead {
  rows: Row[];
  hit?: CachedPage;
  entry?: CachedPage;
}

const toSql = (v: string | number | boolean): SqlValue => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

const fromRow = <T>(row: Row, data: unknown = JSON.parse(row.data)): ResourceRecord<T> => ({
  kind: row.kind,
  id: row.id,
  parent: row.parent,
  status: row.status,
  createdAt: row.created_at,
  data: data as T,
});

/** A fresh copy of a parsed JSON value (several times cheaper than parsing its text again). */
function copyJson(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const a = new Array(v.length);
    for (let i = 0; i < v.length; i++) a[i] = copyJson(v[i]);
    return a;
  }
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = copyJson((v as Record<string, unknown>)[k]);
    if (k === '__proto__') Object.defineProperty(o, k, { value: x, enumerable: true, writable: true, configurable: true });
    else o[k] = x;
  }
  return o;
}

/** Serialises transactions: one at a time, even when a handler awaits. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * Page cache of a file-backed store, in KiB. It grows as pages are used, up
 * to this bound, and then holds that much for the life of the process: the
 * indexes and recent records of the benchmarks' stores fit, a long session's
 * data does not have to.
 */
const CACHE_KIB = 16 * 1024;

/** Most requests one commit may carry (group commit). */
const MAX_BATCH = 64;

/** Checkpoints of a file-backed store run in a worker thread on a second connection (checkpointer.ts). */
const CHECKPOINT_INTERVAL_MS = 250;
/** Log pages after which the request path checkpoints itself (the worker normally keeps it far below). */
const WAL_SAFETY_PAGES = 16_000;

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
  private readonly fieldIndexNames = new Set<string>();
  /**
   * List caches. A page read costs its rows, not the table: the total of a
   * filtered list (a count over every match) and the rows of small pages are
   * kept until a write to the same account and kind. `gens` counts the writes
   * per account and kind; `epoch` moves on any change that is not tracked per
   * kind (rollback, import, reset, a commit by another connection).
   */
  private readonly gens = new Map<string, number>();
  private epoch = 0;
  /** Accounts that have written since the list was read (read again after a rollback, import or reset). */
  private accountsSeen: Set<string> | undefined;
  private accountsEpoch = -1;
  private dataVersion = -1;
  private readonly counts = new Map<string, CachedCount>();
  private readonly pages = new Map<string, CachedPage>();
  private pageChars = 0;
  private checkpointer: Worker | undefined;
  private checkpointerExit: Promise<void> = Promise.resolve();

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
      // SQLite's default page cache is 2 MB: a few thousand records. Past it,
      // every statement reads its pages back through system calls.
      this.db.pragma(`cache_size = -${CACHE_KIB}`);
    }
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    if (!options.inMemory) this.startCheckpointer(this.db.name);
  }

  private startCheckpointer(file: string): void {
    try {
      const checkpointer: CheckpointerData = { file, intervalMs: CHECKPOINT_INTERVAL_MS };
      const worker = new Worker(CHECKPOINTER_FILE, { workerData: { checkpointer } });
      worker.unref();
      this.checkpointerExit = new Promise((resolve) => worker.once('exit', () => resolve()));
      // Without the worker, the request path checkpoints as SQLite does by default.
      worker.on('error', () => {
        if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
      });
      this.checkpointer = worker;
      this.db.pragma(`wal_autocheckpoint = ${WAL_SAFETY_PAGES}`);
    } catch {
      // Keep SQLite's own checkpoints.
    }
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

  /**
   * Group commit: while other requests wait their turn, a finished request's
   * work is kept under its savepoint and the SQLite transaction stays open for
   * the next one; one COMMIT then makes the whole batch durable, and only then
   * does any request of the batch get its answer. A failing request rolls back
   * to its savepoint alone. A request that only read, while the batch held no
   * write yet, saw nothing uncommitted: its transaction ends at once and it is
   * answered without waiting for the turn of the event loop.
   */
  transaction<T>(account: string, fn: (tx: StoreTx) => Promise<T> | T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      void this.mutex.run(async () => {
        const tx = new SqliteTx(this, account);
        try {
          const result = await fn(tx);
          if (tx.begun) {
            this.stmt('RELEASE tclocal_request').run();
            if (tx.changedKinds) this.pendingChanges(account, tx.changedKinds);
            if (tx.wrote || this.batchWrote) {
              this.batchWrote = true;
              this.batch.push({ ok: () => resolve(result), fail: reject });
            } else {
              // Only reads so far: end the transaction now, so no lock outlives the answer.
              this.commitBatch();
              resolve(result);
            }
          } else resolve(result);
        } catch (err) {
          if (tx.begun && this.db.inTransaction) {
            this.stmt('ROLLBACK TO tclocal_request').run();
            this.stmt('RELEASE tclocal_request').run();
          }
          // Whatever the request wrote is gone: forget what was read since.
          this.invalidateAll();
          reject(err);
        }
        if (this.batch.length >= MAX_BATCH) this.commitBatch();
        else if (this.batchOpen && !this.commitScheduled) {
          // Requests that arrive during this turn of the event loop join the batch.
          this.commitScheduled = true;
          setImmediate(() => {
            void this.mutex.run(async () => {
              this.commitScheduled = false;
              this.commitBatch();
            });
          });
        }
      });
    });
  }

  /** Requests whose work waits for the batch's COMMIT before they are answered. */
  private batch: Array<{ ok: () => void; fail: (err: unknown) => void }> = [];
  /** True while a batch's SQLite transaction is open. */
  batchOpen = false;
  /** True once a request of the open batch has written (its readers must wait for the COMMIT). */
  private batchWrote = false;
  private commitScheduled = false;

  /** Commits the open batch, then tells the subscribers, then answers its requests. */
  private commitBatch(): void {
    if (!this.batchOpen) return;
    const done = this.batch;
    const changes = this.changes;
    this.batch = [];
    this.changes = new Map();
    this.batchWrote = false;
    this.batchOpen = false;
    try {
      this.stmt('COMMIT').run();
    } catch (err) {
      if (this.db.inTransaction) this.stmt('ROLLBACK').run();
      this.invalidateAll();
      for (const d of done) d.fail(err);
      return;
    }
    if (changes.size > 0) this.notify(changes);
    for (const d of done) d.ok();
  }

  /** Kinds written by the open batch's requests, by account. */
  private changes = new Map<string, Set<string>>();
  private readonly subscribers = new Set<(changes: CommitChanges) => void>();

  private pendingChanges(account: string, kinds: Set<string>): void {
    const known = this.changes.get(account);
    if (!known) this.changes.set(account, kinds);
    else for (const k of kinds) known.add(k);
  }

  /** A subscriber's failure is its own: it neither undoes the commit nor reaches the writer. */
  private notify(changes: CommitChanges): void {
    for (const fn of this.subscribers) {
      try {
        fn(changes);
      } catch {
        // Subscribers report their own errors.
      }
    }
  }

  onCommit(fn: (changes: CommitChanges) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  async accountsWith(kind: string): Promise<string[]> {
    return this.mutex.run(async () => this.stmt('SELECT DISTINCT account FROM resources WHERE kind = ? ORDER BY account').pluck().all(kind) as string[]);
  }

  async trimSeries(prefix: string, before: number): Promise<number> {
    return this.mutex.run(async () => {
      this.commitBatch();
      return this.stmt('DELETE FROM series WHERE t < ? AND key >= ? AND key < ?').run(before, prefix, `${prefix}\uffff`).changes;
    });
  }

  /** Called once a transaction holds the write lock: another connection's commits invalidate the caches. */
  checkExternalWrites(): void {
    const v = this.stmt('PRAGMA data_version').pluck().get() as number;
    if (v !== this.dataVersion) {
      if (this.dataVersion !== -1) this.invalidateAll();
      this.dataVersion = v;
    }
  }

  invalidateAll(): void {
    this.epoch++;
    this.counts.clear();
    this.pages.clear();
    this.pageChars = 0;
  }

  /** A record of `kind` was written for `account`. */
  touched(account: string, kind: string): void {
    this.accountsSeen?.add(account);
    const key = `${account}\u0000${kind}`;
    this.gens.set(key, (this.gens.get(key) ?? 0) + 1);
  }

  private gen(account: string, kind: string): number {
    return this.gens.get(`${account}\u0000${kind}`) ?? 0;
  }

  cachedCount(account: string, kind: string, key: string, compute: () => number): number {
    const gen = this.gen(account, kind);
    const hit = this.counts.get(key);
    if (hit && hit.gen === gen && hit.epoch === this.epoch) return hit.n;
    const n = compute();
    if (this.counts.size >= CACHE_ENTRIES) this.counts.clear();
    this.counts.set(key, { gen, epoch: this.epoch, n });
    return n;
  }

  /**
   * Rows of a page, from the cache when no write to the kind came since;
   * `hit` is the cache entry read, `entry` the one that now holds the page.
   */
  cachedPage(account: string, kind: string, key: string, limit: number | undefined, compute: () => Row[]): PageRead {
    if (limit === undefined || limit > CACHE_PAGE_ROWS) return { rows: compute() };
    const gen = this.gen(account, kind);
    const hit = this.pages.get(key);
    if (hit && hit.gen === gen && hit.epoch === this.epoch) return { rows: hit.rows, hit, entry: hit };
    const rows = compute();
    let chars = 0;
    for (const r of rows) chars += r.data.length;
    this.pageChars += chars;
    if (this.pages.size >= CACHE_ENTRIES || this.pageChars > CACHE_PAGE_CHARS) {
      this.pages.clear();
      this.pageChars = chars;
    }
    const entry: CachedPage = { gen, epoch: this.epoch, rows };
    this.pages.set(key, entry);
    return { rows, entry };
  }

  /** Keeps a page's joined bytes with it (counted against the cache's size). */
  keepJoined(page: CachedPage, json: Buffer): void {
    page.joined = json;
    this.pageChars += json.length;
  }

  async accounts(): Promise<string[]> {
    if (this.accountsSeen && this.accountsEpoch === this.epoch) return [...this.accountsSeen];
    return this.mutex.run(async () => {
      const epoch = this.epoch;
      const list = this.stmt('SELECT DISTINCT account FROM resources').pluck().all() as string[];
      this.accountsSeen = new Set(list);
      this.accountsEpoch = epoch;
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
    await this.mutex.run(async () => {
      this.commitBatch();
      this.invalidateAll();
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
    this.notify(EVERYTHING);
  }

  async reset(): Promise<void> {
    await this.mutex.run(async () => {
      this.commitBatch();
      this.invalidateAll();
      this.db.transaction(() => {
        for (const table of Object.keys(DUMP_TABLES)) this.db.exec(`DELETE FROM ${table}`);
      })();
    });
    this.notify(EVERYTHING);
  }

  /** Waits for the checkpoint thread too: until it exits, it may still create or remove the log files. */
  async close(): Promise<void> {
    if (this.db.open) this.commitBatch();
    // Held by the event loop while it stops, or a closing process would not wait for it.
    this.checkpointer?.ref();
    this.checkpointer?.postMessage('stop');
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

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

/** `[a,b,...]` from JSON texts in bytes, in one allocation. */
function jsonArray(items: Buffer[]): Buffer {
  const parts: Buffer[] = [OPEN];
  items.forEach((item, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(item);
  });
  parts.push(CLOSE);
  return Buffer.concat(parts);
}

const SERIES_UPSERT = 'INSERT INTO series (account, key, t, value) VALUES (?, ?, ?, ?) ON CONFLICT (account, key, t) DO UPDATE SET value = ';
const SERIES_MERGE: Record<SeriesPoint['merge'], string> = {
  sum: `${SERIES_UPSERT}value + excluded.value`,
  max: `${SERIES_UPSERT}max(value, excluded.value)`,
  min: `${SERIES_UPSERT}min(value, excluded.value)`,
};

class SqliteTx implements StoreTx {
  /** The SQLite transaction starts at the first store call: requests that never touch the store cost nothing here. */
  begun = false;
  /** Set by every statement that may change the database. */
  wrote = false;
  /** Record kinds this request wrote or deleted. */
  changedKinds: Set<string> | undefined;

  constructor(
    private readonly store: SqliteStore,
    readonly account: string,
  ) {}

  private db(): SqliteStore {
    if (!this.begun) {
      if (!this.store.batchOpen) {
        this.store.stmt('BEGIN IMMEDIATE').run();
        this.store.batchOpen = true;
        this.store.checkExternalWrites();
      }
      this.store.stmt('SAVEPOINT tclocal_request').run();
      this.begun = true;
    }
    return this.store;
  }

  private writer(): SqliteStore {
    this.wrote = true;
    return this.db();
  }

  deleteTransition(id: number): void {
    this.writer().stmt('DELETE FROM transitions WHERE id = ?').run(id);
  }

  async get<T>(kind: string, id: string): Promise<ResourceRecord<T> | undefined> {
    const row = this.db()
      .stmt('SELECT kind, id, parent, status, created_at, data FROM resources WHERE account = ? AND kind = ? AND id = ?')
      .get(this.account, kind, id) as Row | undefined;
    return row && fromRow<T>(row);
  }

  /** A record of `kind` (a keyed value of namespace `ns`: kind `kv:ns`) was written: for the caches and the commit's subscribers. */
  private changed(kind: string): void {
    this.store.touched(this.account, kind);
    (this.changedKinds ??= new Set()).add(kind);
  }

  async put<T>(r: ResourceRecord<T>): Promise<void> {
    this.changed(r.kind);
    this.writer()
      .stmt(
        `INSERT INTO resources (account, kind, id, parent, status, created_at, data) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account, kind, id) DO UPDATE SET parent = excluded.parent, status = excluded.status,
           created_at = excluded.created_at, data = excluded.data`,
      )
      .run(this.account, r.kind, r.id, r.parent, r.status, r.createdAt, JSON.stringify(r.data));
  }

  async delete(kind: string, id: string): Promise<boolean> {
    this.changed(kind);
    return this.writer().stmt('DELETE FROM resources WHERE account = ? AND kind = ? AND id = ?').run(this.account, kind, id).changes > 0;
  }

  async list<T>(kind: string, q: ListQuery = {}): Promise<ListResult<T>> {
    const { total, rows, hit } = this.page(kind, q);
    if (!hit) return { total, items: rows.map((r) => fromRow<T>(r)) };
    // A page read again: copy the parsed records instead of parsing their text again.
    hit.parsed ??= rows.map((r) => JSON.parse(r.data));
    const parsed = hit.parsed;
    return { total, items: rows.map((r, i) => fromRow<T>(r, copyJson(parsed[i]))) };
  }

  /**
   * Like list(), with each record's data as its stored JSON text, unparsed:
   * for reads that answer records as they are stored (the text can be
   * written into a response as is).
   */
  async listJson(kind: string, q: ListQuery = {}): Promise<{ total: number; json: Buffer }> {
    const { total, rows, entry } = this.page(kind, q, true);
    if (entry?.joined) return { total, json: entry.joined };
    const json = jsonArray(rows.map((r) => r.data as unknown as Buffer));
    if (entry) this.store.keepJoined(entry, json);
    return { total, json };
  }

  /** With `bytes`, each row's data comes as its UTF-8 bytes (a Buffer), never decoded into a string. */
  private page(kind: string, q: ListQuery, bytes = false): PageRead & { total: number } {
    const literal = kindTerm(kind);
    let where = `account = ? AND ${literal ?? 'kind = ?'}`;
    const params: SqlValue[] = literal ? [this.account] : [this.account, kind];
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
    if (q.search) {
      const columns = ['id', ...q.search.fields.map((f) => `json_extract(data, '$.${checkField(f)}')`)];
      where += ` AND (${columns.map((c) => `instr(lower(${c}), ?) > 0`).join(' OR ')})`;
      for (let i = 0; i < columns.length; i++) params.push(q.search.text.toLowerCase());
    }

    const db = this.db();
    const countSql = `SELECT count(*) AS n FROM resources WHERE ${where}`;
    // Values are typed in the key: 1 and '1' match different rows.
    const paramKey = params.map((p) => (typeof p === 'number' ? `n${p}` : p === null ? 'z' : `s${p}`)).join('\u0000');
    const total = this.store.cachedCount(this.account, kind, `${countSql}\u0000${paramKey}`, () => (db.stmt(countSql).get(...params) as { n: number }).n);
    const dir = q.descending ? 'DESC' : 'ASC';
    const order = q.orderField
      ? `json_extract(data, '$.${checkField(q.orderField)}') ${dir}, created_at ${dir}, rowid ${dir}`
      : `created_at ${dir}, rowid ${dir}`;
    let sql = `SELECT kind, id, parent, status, created_at, ${bytes ? 'CAST(data AS BLOB) AS data' : 'data'} FROM resources WHERE ${where} ORDER BY ${order}`;
    const pageParams = [...params];
    if (q.limit !== undefined || q.offset) {
      sql += ' LIMIT ? OFFSET ?';
      pageParams.push(q.limit ?? -1, q.offset ?? 0);
    }
    if (total === 0 || q.limit === 0) return { total, rows: [] };
    const key = `${sql}\u0000${paramKey}\u0000${q.limit}\u0000${q.offset ?? 0}`;
    return { total, ...this.store.cachedPage(this.account, kind, key, q.limit, () => db.stmt(sql).all(...pageParams) as Row[]) };
  }

  async kvGet<T>(ns: string, key: string): Promise<T | undefined> {
    const row = this.db().stmt('SELECT value FROM kv WHERE account = ? AND ns = ? AND key = ?').get(this.account, ns, key) as
      | { value: string }
      | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async kvPut(ns: string, key: string, value: unknown): Promise<void> {
    this.changed(`kv:${ns}`);
    this.writer()
      .stmt('INSERT INTO kv (account, ns, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (account, ns, key) DO UPDATE SET value = excluded.value')
      .run(this.account, ns, key, JSON.stringify(value));
  }

  async kvDelete(ns: string, key: string): Promise<void> {
    this.changed(`kv:${ns}`);
    this.writer().stmt('DELETE FROM kv WHERE account = ? AND ns = ? AND key = ?').run(this.account, ns, key);
  }

  async nextSequence(name: string, scope: 'account' | 'shared' = 'account'): Promise<number> {
    const row = this.writer()
      .stmt(
        `INSERT INTO sequences (account, name, value) VALUES (?, ?, 1)
         ON CONFLICT (account, name) DO UPDATE SET value = value + 1 RETURNING value`,
      )
      .get(scope === 'shared' ? '' : this.account, name) as { value: number };
    return row.value;
  }

  async seriesWrite(points: ReadonlyArray<SeriesPoint>): Promise<void> {
    if (points.length === 0) return;
    const db = this.writer();
    for (const p of points) db.stmt(SERIES_MERGE[p.merge]).run(this.account, p.key, p.t, p.value);
  }

  async seriesRead(key: string, from: number, to: number): Promise<Array<{ t: number; value: number }>> {
    return this.db().stmt('SELECT t, value FROM series WHERE account = ? AND key = ? AND t BETWEEN ? AND ? ORDER BY t').all(this.account, key, from, to) as Array<{ t: number; value: number }>;
  }

  async seriesDelete(prefix: string): Promise<void> {
    // Keys sort together under their prefix: a range of the primary key, not a scan.
    this.writer().stmt('DELETE FROM series WHERE account = ? AND key >= ? AND key < ?').run(this.account, prefix, `${prefix}\uffff`);
  }

  async schedule(service: string, type: string, dueAt: number, payload: Record<string, unknown>): Promise<number> {
    const info = this.writer()
      .stmt('INSERT INTO transitions (account, service, type, due_at, payload) VALUES (?, ?, ?, ?, ?)')
      .run(this.account, service, type, dueAt, JSON.stringify(payload));
    return Number(info.lastInsertRowid);
  }
}
