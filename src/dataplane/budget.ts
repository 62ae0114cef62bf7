/**
 * How many listener sockets the data plane may hold. Every socket is an
 * open file, and a process that has used up its open-file limit can no
 * longer accept the API's connections (the kernel's accept fails, and the
 * connection is dropped): the data plane stops binding a quarter short of
 * the limit (at least 256 short), and reports the listeners it left unbound.
 */
import { readFileSync } from 'node:fs';

/** Files kept free for the API, forwarded connections and the store. */
export const reserveFor = (limit: number): number => Math.max(256, Math.floor(limit / 4));

/** Listener sockets allowed under the process's open-file limit (Linux: /proc/self/limits); unbounded where the limit cannot be read. */
export function listenerSocketBudget(): number {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return Infinity;
  }
  const m = /^Max open files\s+(\d+)/m.exec(text);
  if (!m) return Infinity;
  const limit = Number(m[1]);
  return Math.max(0, limit - reserveFor(limit));
}
