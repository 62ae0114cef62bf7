/**
 * The checkpoint worker: a worker thread with a second connection to a
 * file-backed store that copies the write-ahead log into the database file
 * (and fsyncs it) every few hundred milliseconds, so that no request stalls
 * on a checkpoint. Commits stay as durable as before: the log holds every
 * committed transaction. Any message asks it to stop.
 */
import Database from 'better-sqlite3';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

export interface CheckpointerData {
  file: string;
  intervalMs: number;
}

/** The file to start the worker from (this module, compiled). */
export const CHECKPOINTER_FILE = __filename;

if (!isMainThread && parentPort && (workerData as { checkpointer?: CheckpointerData })?.checkpointer) {
  const { file, intervalMs } = (workerData as { checkpointer: CheckpointerData }).checkpointer;
  const port = parentPort;
  const db = new Database(file);
  const timer = setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // The next round retries.
    }
  }, intervalMs);
  port.on('message', () => {
    clearInterval(timer);
    try {
      db.close();
    } catch {
      // Already gone.
    }
    port.close();
  });
}
