/** One request's transaction on the SQLite store: its reads, writes and list pages. */
import type Database from 'better-sqlite3';
import type { ListQuery, ListResult, ResourceRecord, SeriesPoint, StoreTx } from '../types';
import type { ListCache, PageRead } from './cache';
import { checkField, kindTerm, type Row, type SqlValue } from './sql';

/** What a transaction needs of its store. */
export interface TxHost {
  /** A prepared statement, cached by its SQL text. */
  stmt(sql: string): Database.Statement;
  /** Opens the group commit's batch transaction, unless one is open. */
  begin(): void;
  readonly cache: ListCache;
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

export class SqliteTx implements StoreTx {
  /** The SQLite transaction starts at the first store call: requests that never touch the store cost nothing here. */
  begun = false;
  /** Set by every statement that may change the database. */
  wrote = false;
  /** Record kinds this request wrote or deleted. */
  changedKinds: Set<string> | undefined;
  /** The ids behind them, by kind. */
  changedIds: Map<string, Set<string>> | undefined;

  constructor(
    private readonly host: TxHost,
    readonly account: string,
  ) {}

  private db(): TxHost {
    if (!this.begun) {
      this.host.begin();
      this.host.stmt('SAVEPOINT tclocal_request').run();
      this.begun = true;
    }
    return this.host;
  }

  private writer(): TxHost {
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

  /** A record of `kind` (a keyed value of namespace `ns`: kind `kv:ns`, id its key) was written: for the caches and the commit's subscribers. */
  private changed(kind: string, id: string): void {
    this.host.cache.touched(this.account, kind);
    (this.changedKinds ??= new Set()).add(kind);
    const ids = (this.changedIds ??= new Map()).get(kind);
    if (ids) ids.add(id);
    else this.changedIds.set(kind, new Set([id]));
  }

  async put<T>(r: ResourceRecord<T>): Promise<void> {
    this.changed(r.kind, r.id);
    this.writer()
      .stmt(
        `INSERT INTO resources (account, kind, id, parent, status, created_at, data) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account, kind, id) DO UPDATE SET parent = excluded.parent, status = excluded.status,
           created_at = excluded.created_at, data = excluded.data`,
      )
      .run(this.account, r.kind, r.id, r.parent, r.status, r.createdAt, JSON.stringify(r.data));
  }

  async delete(kind: string, id: string): Promise<boolean> {
    this.changed(kind, id);
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
    if (entry) this.host.cache.keepJoined(entry, json);
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
    const total = this.host.cache.cachedCount(this.account, kind, `${countSql}\u0000${paramKey}`, () => (db.stmt(countSql).get(...params) as { n: number }).n);
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
    return { total, ...this.host.cache.cachedPage(this.account, kind, key, q.limit, () => db.stmt(sql).all(...pageParams) as Row[]) };
  }

  async kvGet<T>(ns: string, key: string): Promise<T | undefined> {
    const row = this.db().stmt('SELECT value FROM kv WHERE account = ? AND ns = ? AND key = ?').get(this.account, ns, key) as
      | { value: string }
      | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async kvPut(ns: string, key: string, value: unknown): Promise<void> {
    this.changed(`kv:${ns}`, key);
    this.writer()
      .stmt('INSERT INTO kv (account, ns, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (account, ns, key) DO UPDATE SET value = excluded.value')
      .run(this.account, ns, key, JSON.stringify(value));
  }

  async kvDelete(ns: string, key: string): Promise<void> {
    this.changed(`kv:${ns}`, key);
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
