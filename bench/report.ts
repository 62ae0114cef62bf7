/**
 * BENCHMARKS.md is written by more than one run (`npm run bench`,
 * `npm run soak`, `npm run bench:dataplane`, `npm run bench:dns`): each
 * replaces its own sections and keeps the others'.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const BENCHMARKS_FILE = resolve(__dirname, '../../BENCHMARKS.md');

/** The section that starts at the `## heading` line, up to the next `## ` heading, or '' when absent. */
export function readSection(heading: string, file = BENCHMARKS_FILE): string {
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(`\n## ${heading}`);
  if (start < 0) return '';
  const next = text.indexOf('\n## ', start + 1);
  return text.slice(start + 1, next < 0 ? text.length : next + 1).trimEnd() + '\n';
}

/** Writes `section` (starting with its `## heading` line) in place of the old one, or at the end. */
export function writeSection(heading: string, section: string, file = BENCHMARKS_FILE): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const old = readSection(heading, file);
  const body = section.trimEnd() + '\n';
  writeFileSync(file, old ? text.replace(old, body) : `${text.trimEnd()}\n\n${body}`);
}

/** Written by `npm run bench:dataplane`. */
export const DATAPLANE_HEADING = 'GAAP data plane';

/** Written by `npm run soak`. */
export const RELIABILITY_HEADING = 'Reliability';

/** Written by `npm run bench:dns`. */
export const DNS_HEADING = 'DNS';
/** Written by `npm run bench:console`. */
export const CONSOLE_HEADING = 'Console';
/** Written by `npm run bench:request-log`. */
export const REQUEST_LOG_HEADING = 'Request log cost';
/** Written by hand beside the generated data-plane section: what the recorded run shows. */
export const DATAPLANE_NOTES_HEADING = 'GAAP data plane: reading the figures';
/** Written by hand from `npm run bench:compare` runs. */
export const COMPARE_HEADING = 'This build against an earlier one';
