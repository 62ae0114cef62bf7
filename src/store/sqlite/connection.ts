/**
 * Opening the SQLite database: its file and pragmas, the pending schema
 * migrations, and the checkpoint worker of a file-backed store.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CHECKPOINTER_FILE, type CheckpointerData } from './checkpointer';
import { migrations, SCHEMA_VERSION } from './migrations';

export interface SqliteOptions {
  /** Directory for the database file; ignored when inMemory. */
  dataDir?: string;
  inMemory?: boolean;
}

/**
 * Page cache of a file-backed store, in KiB. It grows as pages are used, up
 * to this bound, and then holds that much for the life of the process: the
 * indexes and recent records of the benchmarks' stores fit, a long session's
 * data does not have to.
 */
export const CACHE_KIB = 16 * 1024;

/** Checkpoints of a file-backed store run in a worker thread on a second connection (checkpointer.ts). */
const CHECKPOINT_INTERVAL_MS = 250;
/** Log pages after which the request path checkpoints itself (the worker normally keeps it far below). */
const WAL_SAFETY_PAGES = 16_000;

/** Opens the database with its pragmas and brings its schema up to date. */
export function openDatabase(options: SqliteOptions): Database.Database {
  let db: Database.Database;
  if (options.inMemory) {
    db = new Database(':memory:');
  } else {
    const dir = options.dataDir ?? '.tclocal';
    mkdirSync(dir, { recursive: true });
    db = new Database(join(dir, 'tclocal.db'));
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a committed transaction survives a crash of the
    // process (kill -9); only a power loss could drop the last commits.
    db.pragma('synchronous = NORMAL');
    // SQLite's default page cache is 2 MB: a few thousand records. Past it,
    // every statement reads its pages back through system calls.
    db.pragma(`cache_size = -${CACHE_KIB}`);
  }
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  const current = row ? Number(row.value) : 0;
  if (current > SCHEMA_VERSION) {
    throw new Error(`the data directory holds schema version ${current}, newer than this tclocal (${SCHEMA_VERSION})`);
  }
  if (current === SCHEMA_VERSION) return;
  db.transaction(() => {
    for (let v = current; v < SCHEMA_VERSION; v++) db.exec(migrations[v]);
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
  })();
}

/** The checkpoint worker of a file-backed store, seen from the store's thread. */
export interface CheckpointThread {
  /** Asks the worker to stop; the process waits for it from then on. */
  stop(): void;
  /** Settles once the worker has exited. */
  readonly exited: Promise<void>;
}

/** Starts the checkpoint worker for `db`'s file, or keeps SQLite's own checkpoints when it cannot start. */
export function startCheckpointer(db: Database.Database): CheckpointThread | undefined {
  let thread: CheckpointThread | undefined;
  try {
    const checkpointer: CheckpointerData = { file: db.name, intervalMs: CHECKPOINT_INTERVAL_MS };
    const worker = new Worker(CHECKPOINTER_FILE, { workerData: { checkpointer } });
    worker.unref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Without the worker, the request path checkpoints as SQLite does by default.
    worker.on('error', () => {
      if (db.open) db.pragma('wal_autocheckpoint = 1000');
    });
    thread = {
      stop() {
        // Held by the event loop while it stops, or a closing process would not wait for it.
        worker.ref();
        worker.postMessage('stop');
      },
      exited,
    };
    db.pragma(`wal_autocheckpoint = ${WAL_SAFETY_PAGES}`);
  } catch {
    // Keep SQLite's own checkpoints.
  }
  return thread;
}
