/**
 * Loaded into the soak's tclocal process with `--require`: every few
 * seconds it writes the process's own memory figures (V8 heap, external,
 * array buffers) to the file named by SOAK_MEMORY_FILE, so the soak can tell
 * the heap from native memory without an endpoint in the server for it.
 */
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.SOAK_MEMORY_FILE;
// Worker threads inherit the preload; their heaps are their own, the server's is the main thread's.
if (file && isMainThread) {
  const write = () => {
    try {
      writeFileSync(file, JSON.stringify(process.memoryUsage()));
    } catch {
      // The soak reads the last figures written; a missed round changes nothing.
    }
  };
  write();
  setInterval(write, 2000).unref();
}
