/**
 * Versioned schema. Each entry moves the database one version forward; the
 * store applies the pending ones in a transaction when it opens. Never edit a
 * released entry: append a new one.
 */
/**
 * Version 1 kept each GAAP counter as one keyed value `{ "<minute>": value }`;
 * its points become series rows. Also run on imports of version-1 exports.
 */
export const MOVE_GAAP_STATS = `
  INSERT OR REPLACE INTO series (account, key, t, value)
    SELECT kv.account, 'gaap:' || kv.key, CAST(j.key AS INTEGER), j.value FROM kv, json_each(kv.value) AS j
    WHERE kv.ns = 'gaap.stats' AND json_valid(kv.value) AND json_type(kv.value) = 'object' AND typeof(j.value) IN ('integer', 'real');
  DELETE FROM kv WHERE ns = 'gaap.stats';
`;

export const migrations: readonly string[] = [
  // 1: resources, scheduled transitions, keyed values, sequences.
  `
  CREATE TABLE resources (
    account    TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    parent     TEXT,
    status     TEXT,
    created_at INTEGER NOT NULL,
    data       TEXT    NOT NULL,
    PRIMARY KEY (account, kind, id)
  );
  CREATE INDEX resources_by_created ON resources (account, kind, created_at);
  CREATE INDEX resources_by_parent  ON resources (account, kind, parent, created_at);
  CREATE TABLE transitions (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT    NOT NULL,
    service TEXT    NOT NULL,
    type    TEXT    NOT NULL,
    due_at  INTEGER NOT NULL,
    payload TEXT    NOT NULL
  );
  CREATE INDEX transitions_by_due ON transitions (due_at, id);
  CREATE TABLE kv (
    account TEXT NOT NULL,
    ns      TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (account, ns, key)
  );
  CREATE TABLE sequences (
    account TEXT    NOT NULL,
    name    TEXT    NOT NULL,
    value   INTEGER NOT NULL,
    PRIMARY KEY (account, name)
  );
  `,
  // 2: time series in rows (a point's write no longer rewrites its history);
  // GAAP's per-minute counters move out of the keyed values.
  `
  CREATE TABLE series (
    account TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    t       INTEGER NOT NULL,
    value   REAL    NOT NULL,
    PRIMARY KEY (account, key, t)
  ) WITHOUT ROWID;
  CREATE INDEX series_by_time ON series (t);
  ${MOVE_GAAP_STATS}
  `,
];

export const SCHEMA_VERSION = migrations.length;

/** Tables moved by export/import, with their columns in order. */
export const DUMP_TABLES: Record<string, readonly string[]> = {
  resources: ['account', 'kind', 'id', 'parent', 'status', 'created_at', 'data'],
  transitions: ['id', 'account', 'service', 'type', 'due_at', 'payload'],
  kv: ['account', 'ns', 'key', 'value'],
  sequences: ['account', 'name', 'value'],
  series: ['account', 'key', 't', 'value'],
};

/** Order of a table's rows in an export: insertion order, or the key of tables without rowids. */
export const DUMP_ORDER: Record<string, string> = { series: 'account, key, t' };
