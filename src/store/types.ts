/**
 * Persistence behind an interface. The embedded SQLite store implements it
 * today; the methods are asynchronous so that a shared network store (for a
 * fleet of emulator nodes) can implement the same contract later.
 *
 * Every resource belongs to one account. `kind` is namespaced by service
 * (`gaap.proxy`, `ssl.certificate`), so one account's state across services
 * lives in one place and cross-service calls (tags) can reach it.
 */

export interface ResourceRecord<T = Record<string, unknown>> {
  kind: string;
  id: string;
  /** Containing resource (a listener's proxy, a rule's listener), if any. */
  parent: string | null;
  /** Status kept as a column so lists can filter on it cheaply. */
  status: string | null;
  /** Milliseconds since the epoch. */
  createdAt: number;
  data: T;
}

export interface FieldFilter {
  /** Top-level field of the record's data. */
  field: string;
  /** Match any of these values (OR); filters are combined with AND. */
  values: ReadonlyArray<string | number | boolean>;
}

export interface ListQuery {
  parent?: string | null;
  ids?: readonly string[];
  statusIn?: readonly string[];
  where?: readonly FieldFilter[];
  /** Case-insensitive substring of the id or of any of these data fields (a scan of the kind: for browsing, not for APIs). */
  search?: { text: string; fields: readonly string[] };
  /** Order by a data field instead of creation time. */
  orderField?: string;
  descending?: boolean;
  offset?: number;
  /** Absent: no limit. */
  limit?: number;
}

export interface ListResult<T> {
  total: number;
  items: ResourceRecord<T>[];
}

export interface ScheduledTransition {
  id: number;
  account: string;
  service: string;
  type: string;
  dueAt: number;
  payload: Record<string, unknown>;
}

/** Operations available inside one transaction, for one account. */
export interface StoreTx {
  readonly account: string;
  get<T = Record<string, unknown>>(kind: string, id: string): Promise<ResourceRecord<T> | undefined>;
  /** Insert or replace. */
  put<T>(record: ResourceRecord<T>): Promise<void>;
  delete(kind: string, id: string): Promise<boolean>;
  list<T = Record<string, unknown>>(kind: string, query?: ListQuery): Promise<ListResult<T>>;
  /**
   * Like list(), the page as one JSON array of the records' data as stored, in
   * UTF-8 bytes: for reads that answer records as stored. The bytes may be
   * shared with other readers of the same page: never modify them.
   */
  listJson(kind: string, query?: ListQuery): Promise<{ total: number; json: Buffer }>;
  /** Small keyed values: idempotency tokens, settings. */
  kvGet<T = unknown>(ns: string, key: string): Promise<T | undefined>;
  kvPut(ns: string, key: string, value: unknown): Promise<void>;
  kvDelete(ns: string, key: string): Promise<void>;
  /** Next value of an integer sequence, starting at 1: per account, or one shared by every account. */
  nextSequence(name: string, scope?: 'account' | 'shared'): Promise<number>;
  /** Persist a state change to apply at `dueAt` (ms). */
  schedule(service: string, type: string, dueAt: number, payload: Record<string, unknown>): Promise<number>;
  /**
   * Time series: one point per (key, time). Writing a point costs the same
   * whatever the series' length; `merge` says how a second write to the same
   * point combines with the first.
   */
  seriesWrite(points: ReadonlyArray<SeriesPoint>): Promise<void>;
  /** Points of one series with `from <= t <= to`, oldest first. */
  seriesRead(key: string, from: number, to: number): Promise<Array<{ t: number; value: number }>>;
  /** Forget every series whose key starts with `prefix`. */
  seriesDelete(prefix: string): Promise<void>;
}

export interface SeriesPoint {
  key: string;
  /** Any integer time unit the caller chooses (GAAP: unix seconds of a minute's start). */
  t: number;
  value: number;
  merge: 'sum' | 'max' | 'min';
}

/**
 * What committed transactions changed: account → record kinds written or
 * deleted (a keyed value of namespace `ns` counts as kind `kv:ns`). An
 * import or reset changes everything: account `*`, kind `*`.
 */
export type CommitChanges = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * The same commits record by record: account → kind → ids written or
 * deleted (a keyed value: kind `kv:ns`, id its key), so a follower can read
 * back only what changed. Absent after an import or reset.
 */
export type CommitRecords = ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string>>>;

export interface StateDump {
  format: 'tclocal-state';
  schemaVersion: number;
  exportedAt: string;
  tables: Record<string, Record<string, unknown>[]>;
}

export interface Store {
  readonly kind: string;
  /** Run `fn` in one transaction for `account`; committed before the promise resolves. */
  transaction<T>(account: string, fn: (tx: StoreTx) => Promise<T> | T): Promise<T>;
  /** Transitions due at or before `now`, oldest first. */
  dueTransitions(now: number, limit: number): Promise<ScheduledTransition[]>;
  /** Remove a transition once applied (inside the applying transaction). */
  completeTransition(tx: StoreTx, id: number): Promise<void>;
  /** Transitions still scheduled for one account, soonest first. */
  pendingTransitions(account: string, limit: number): Promise<ScheduledTransition[]>;
  /** How many resources of each kind each account holds. */
  inventory(): Promise<Array<{ account: string; kind: string; count: number }>>;
  /** When the next transition is due, or undefined. */
  nextDueAt(): Promise<number | undefined>;
  /** Create an index on a data field of one kind, so filters on it cost the page. */
  ensureFieldIndex(kind: string, field: string): void;
  /** Once every service has declared its indexes: remove field indexes no service declares any more (each costs every write). */
  dropUndeclaredFieldIndexes(): void;
  /**
   * Calls `fn` after every commit that wrote or deleted records (batched
   * requests are reported together), before their callers get the answer.
   * Returns the function that unsubscribes.
   */
  onCommit(fn: (changes: CommitChanges, records: CommitRecords | undefined) => void): () => void;
  /** Accounts holding at least one record of `kind`. */
  accountsWith(kind: string): Promise<string[]>;
  /** Drops the points older than `before` of every series whose key starts with `prefix`; returns how many. */
  trimSeries(prefix: string, before: number): Promise<number>;
  exportState(): Promise<StateDump>;
  importState(dump: StateDump): Promise<void>;
  reset(): Promise<void>;
  /** Accounts that hold any resource: for views that span every tenant (the DNS server). */
  accounts(): Promise<string[]>;
  /** Resolves once every connection and helper thread has let go of the files. */
  close(): Promise<void>;
}
