/**
 * BENCHMARKS.md is written by two benchmarks: bench/run.ts writes the top,
 * bench/dns.ts the DNS section after a marker. Each keeps the other's part.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const FILE = resolve(__dirname, '../../BENCHMARKS.md');
const DNS_MARKER = '<!-- bench:dns -->';

const current = (): string => (existsSync(FILE) ? readFileSync(FILE, 'utf8') : '');

/** Replaces everything before the DNS section. */
export function writeMainReport(text: string): void {
  const at = current().indexOf(DNS_MARKER);
  writeFileSync(FILE, at >= 0 ? `${text.trimEnd()}\n\n${current().slice(at)}` : text);
}

/** Replaces the DNS section (added at the end the first time). */
export function writeDnsReport(text: string): void {
  const now = current();
  const at = now.indexOf(DNS_MARKER);
  writeFileSync(FILE, `${at >= 0 ? now.slice(0, at) : `${now.trimEnd()}\n\n`}${DNS_MARKER}\n${text}`);
}
