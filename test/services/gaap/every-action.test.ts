/**
 * Every GAAP action is exercised end to end through the official SDK
 * somewhere in the GAAP test files (a call `.<Action>(` on a client).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { it } from 'node:test';
import { specs } from '../../../src/spec';

it('every GAAP action is called through the SDK by a test', () => {
  const dir = resolve(__dirname, '../../../../test/services/gaap');
  // The tests sit in folders by resource, as the source does.
  const sources = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
  const gaap = specs.find((s) => s.service === 'gaap')!;
  const untested = Object.keys(gaap.actions).filter((a) => !new RegExp(`\\.${a}\\(`).test(sources));
  assert.deepEqual(untested, []);
});
