/**
 * tclocal's Node flags: `npm start` passes them (V8 takes the young
 * generation's size only at start-up), and a process started with them has
 * the larger young generation they ask for.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { NODE_FLAGS } from '../../src/core/node-flags';

const ROOT = resolve(__dirname, '../../..');

describe('Node flags', () => {
  it('npm start runs the server with every one of them', () => {
    const start = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')).scripts.start as string;
    for (const flag of NODE_FLAGS) assert.ok(start.split(' ').includes(flag), `npm start lacks ${flag}: ${start}`);
  });

  it('give a process a young generation of at least 8 MB from the start', () => {
    const newSpace = (flags: readonly string[]) => {
      const out = spawnSync(process.execPath, [...flags, '-e', "console.log(require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size)"], { encoding: 'utf8' });
      return Number(out.stdout.trim());
    };
    assert.ok(newSpace(NODE_FLAGS) >= 8 * 1024 * 1024, `new space ${newSpace(NODE_FLAGS)}`);
    assert.ok(newSpace([]) < newSpace(NODE_FLAGS), 'the default is smaller');
  });
});
