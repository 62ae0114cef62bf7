/**
 * tclocal's Node flags: `npm start` passes them (V8 takes the young
 * generation's size only at start-up), so does the `tclocal` command npm
 * installs (its first line), and a process started with them has the larger
 * young generation they ask for and starts no whole-heap collection of its
 * own accord when it falls idle.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { NODE_FLAGS } from '../../src/core/node-flags';

const ROOT = resolve(__dirname, '../../..');

describe('Node flags', () => {
  it('npm start runs the server with every one of them', () => {
    const start = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')).scripts.start as string;
    for (const flag of NODE_FLAGS) assert.ok(start.split(' ').includes(flag), `npm start lacks ${flag}: ${start}`);
  });

  it('the tclocal command (the package\'s bin, run by its first line) starts Node with every one of them', () => {
    const bin = resolve(ROOT, JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')).bin.tclocal as string);
    const first = readFileSync(bin, 'utf8').split('\n')[0];
    for (const flag of NODE_FLAGS) assert.ok(first.split(' ').includes(flag), `the bin's first line lacks ${flag}: ${first}`);
    // npm makes the bin executable when it installs it; run it as such.
    chmodSync(bin, statSync(bin).mode | 0o111);
    const out = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /\d+\.\d+\.\d+/);
  });

  it('give a process a young generation of at least 8 MB from the start', () => {
    const newSpace = (flags: readonly string[]) => {
      const out = spawnSync(process.execPath, [...flags, '-e', "console.log(require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size)"], { encoding: 'utf8' });
      return Number(out.stdout.trim());
    };
    assert.ok(newSpace(NODE_FLAGS) >= 8 * 1024 * 1024, `new space ${newSpace(NODE_FLAGS)}`);
    assert.ok(newSpace([]) < newSpace(NODE_FLAGS), 'the default is smaller');
  });

  it('start no whole-heap collection in a process that falls idle', async () => {
    // A forwarder's code loaded, then nothing to do: V8's memory reducer
    // collects the whole heap once its delay (shortened here) has passed and
    // it finds allocation low; found busy, it looks again 8 s later. So the
    // same process without the flag, started alongside, is the clock: the
    // flagged one must stay quiet at least as long as that one took.
    const forwarder = resolve(__dirname, '../../src/dataplane/forwarder.js');
    const idle = (flags: readonly string[]) => {
      const child = spawn(process.execPath, [...flags, '--trace-gc', '--gc-memory-reducer-start-delay-ms=50', '-e', `require(${JSON.stringify(forwarder)}); setInterval(() => undefined, 1000)`], { stdio: ['ignore', 'pipe', 'inherit'] });
      const seen = { reductions: 0 };
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (text: string) => { seen.reductions += text.split('Mark-Compact (reduce)').length - 1; });
      return { child, seen };
    };
    const flagged = idle(NODE_FLAGS);
    const control = idle(NODE_FLAGS.filter((f) => f !== '--no-memory-reducer'));
    try {
      const deadline = Date.now() + 30_000;
      while (control.seen.reductions === 0 && Date.now() < deadline) await delay(100);
      assert.ok(control.seen.reductions > 0, 'without the flag V8 reduces within 30 s');
      await delay(500);
      assert.equal(flagged.seen.reductions, 0);
    } finally {
      flagged.child.kill();
      control.child.kill();
    }
  });
});
