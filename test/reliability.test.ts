/**
 * The reliability harness of `npm run soak`, small: three kill -9 trials
 * under mixed write load (every acknowledged write present after restart,
 * every pending transition completed) and 2,000 fuzzed requests across
 * every action and both wire protocols (every answer a well-formed envelope,
 * none an InternalError, the server alive after).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runFuzz } from '../bench/reliability/fuzz';
import { killTrial, startProcess, stopProcess } from '../bench/reliability/kill';
import { freePort } from '../bench/servers';

describe('reliability', () => {
  it('kill -9 at random moments under mixed write load loses no acknowledged write (3 trials)', async () => {
    for (let t = 1; t <= 3; t++) {
      const r = await killTrial(t, 9000 + t);
      assert.ok(r.acknowledged >= 20, `trial ${t}: only ${r.acknowledged} writes acknowledged before the kill`);
      assert.deepEqual(r.lost, [], `trial ${t}: ${r.lost.length} of ${r.acknowledged} acknowledged writes lost`);
      assert.equal(r.unfinished, 0, `trial ${t}: transitions left unfinished after the restart`);
      assert.deepEqual(r.unexpected, [], `trial ${t}: unexpected errors`);
    }
  });

  it('2,000 fuzzed requests across every action and both wire protocols: no crash, every answer a well-formed envelope', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tclocal-fuzz-'));
    const port = await freePort();
    const child = await startProcess(dataDir, port, 0);
    try {
      const f = await runFuzz(port, 2000, 3, 4);
      assert.deepEqual(f.malformed, []);
      assert.equal(f.noAnswer, 0);
      assert.equal(f.aliveAfter, true);
      assert.ok(f.xml > 200 && f.api3 > 1500);
      assert.ok((f.codes.success ?? 0) > 50, 'some fuzzed requests should succeed');
      assert.equal(child.exitCode, null, 'the server process exited');
    } finally {
      await stopProcess(child, 'SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
