/**
 * Group commit: while other requests wait their turn, a finished request's
 * work is kept under its savepoint and the SQLite transaction stays open for
 * the next one; one COMMIT then makes the whole batch durable, and only then
 * does any request of the batch get its answer. A failing request rolls back
 * to its savepoint alone. A request that only read, while the batch held no
 * write yet, saw nothing uncommitted: its transaction ends at once and it is
 * answered without waiting for the turn of the event loop.
 */
import type Database from 'better-sqlite3';
import type { CommitChanges, CommitRecords } from '../types';

/** Most requests one commit may carry. */
const MAX_BATCH = 64;

/** Serialises transactions: one at a time, even when a handler awaits. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** What a request's transaction tells the group commit once its handler is done. */
export interface RequestWork {
  /** True once the request opened its savepoint. */
  begun: boolean;
  /** True once the request ran a statement that may change the database. */
  wrote: boolean;
  /** Record kinds the request wrote or deleted. */
  changedKinds: Set<string> | undefined;
  /** The ids behind them, by kind. */
  changedIds: Map<string, Set<string>> | undefined;
}

export class GroupCommit {
  /** Held by every request and by store-wide work (imports, resets, trims). */
  readonly mutex = new Mutex();
  /** Requests whose work waits for the batch's COMMIT before they are answered. */
  private batch: Array<{ ok: () => void; fail: (err: unknown) => void }> = [];
  /** True while a batch's SQLite transaction is open. */
  private batchOpen = false;
  /** True once a request of the open batch has written (its readers must wait for the COMMIT). */
  private batchWrote = false;
  private commitScheduled = false;
  /** Kinds written by the open batch's requests, by account. */
  private changes = new Map<string, Set<string>>();
  /** The ids behind `changes`, by account and kind. */
  private records = new Map<string, Map<string, Set<string>>>();
  private readonly subscribers = new Set<(changes: CommitChanges, records: CommitRecords | undefined) => void>();

  constructor(
    private readonly db: Database.Database,
    private readonly stmt: (sql: string) => Database.Statement,
    /** Called when a batch's transaction has begun (it holds the write lock from then on). */
    private readonly onBegin: () => void,
    /** Called when uncommitted work is undone: whatever was read since is stale. */
    private readonly onUndo: () => void,
  ) {}

  /** Opens the batch's SQLite transaction, unless one is open. */
  begin(): void {
    if (this.batchOpen) return;
    this.stmt('BEGIN IMMEDIATE').run();
    this.batchOpen = true;
    this.onBegin();
  }

  /** Runs one request's handler in its turn, on the transaction `open` makes, and answers it once its work is durable. */
  run<T, X extends RequestWork>(account: string, open: () => X, fn: (tx: X) => Promise<T> | T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      void this.mutex.run(async () => {
        const tx = open();
        try {
          const result = await fn(tx);
          if (tx.begun) {
            this.stmt('RELEASE tclocal_request').run();
            if (tx.changedKinds) this.pendingChanges(account, tx.changedKinds, tx.changedIds);
            if (tx.wrote || this.batchWrote) {
              this.batchWrote = true;
              this.batch.push({ ok: () => resolve(result), fail: reject });
            } else {
              // Only reads so far: end the transaction now, so no lock outlives the answer.
              this.commit();
              resolve(result);
            }
          } else resolve(result);
        } catch (err) {
          if (tx.begun && this.db.inTransaction) {
            this.stmt('ROLLBACK TO tclocal_request').run();
            this.stmt('RELEASE tclocal_request').run();
          }
          // Whatever the request wrote is gone: forget what was read since.
          this.onUndo();
          reject(err);
        }
        if (this.batch.length >= MAX_BATCH) this.commit();
        else if (this.batchOpen && !this.commitScheduled) {
          // Requests that arrive during this turn of the event loop join the batch.
          this.commitScheduled = true;
          setImmediate(() => {
            void this.mutex.run(async () => {
              this.commitScheduled = false;
              this.commit();
            });
          });
        }
      });
    });
  }

  /** Commits the open batch, then tells the subscribers, then answers its requests. */
  commit(): void {
    if (!this.batchOpen) return;
    const done = this.batch;
    const changes = this.changes;
    const records = this.records;
    this.batch = [];
    this.changes = new Map();
    this.records = new Map();
    this.batchWrote = false;
    this.batchOpen = false;
    try {
      this.stmt('COMMIT').run();
    } catch (err) {
      if (this.db.inTransaction) this.stmt('ROLLBACK').run();
      this.onUndo();
      for (const d of done) d.fail(err);
      return;
    }
    if (changes.size > 0) this.notify(changes, records);
    for (const d of done) d.ok();
  }

  private pendingChanges(account: string, kinds: Set<string>, ids: Map<string, Set<string>> | undefined): void {
    const known = this.changes.get(account);
    if (!known) this.changes.set(account, kinds);
    else for (const k of kinds) known.add(k);
    if (!ids) return;
    const byKind = this.records.get(account);
    if (!byKind) {
      this.records.set(account, ids);
      return;
    }
    for (const [kind, set] of ids) {
      const seen = byKind.get(kind);
      if (!seen) byKind.set(kind, set);
      else for (const id of set) seen.add(id);
    }
  }

  /** A subscriber's failure is its own: it neither undoes the commit nor reaches the writer. */
  notify(changes: CommitChanges, records?: CommitRecords): void {
    for (const fn of this.subscribers) {
      try {
        fn(changes, records);
      } catch {
        // Subscribers report their own errors.
      }
    }
  }

  onCommit(fn: (changes: CommitChanges, records: CommitRecords | undefined) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
}
