/**
 * The console under the admin access rule: with a token required, its shell
 * (page and bundle) opens without it, and every endpoint it calls needs it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { startTclocal } from '../helpers';

describe('console access', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ adminToken: 'console-test-token' });
  });
  after(() => server.stop());

  it('serves the shell without the token and the data only with it', async () => {
    for (const path of ['/_tclocal/ui', '/_tclocal/ui/app.js', '/_tclocal/ui/app.css']) {
      assert.equal((await fetch(`${server.url}${path}`)).status, 200, path);
    }
    for (const path of ['/_tclocal/requests', '/_tclocal/faults', '/_tclocal/resources', '/_tclocal/traffic']) {
      assert.equal((await fetch(`${server.url}${path}`)).status, 401, path);
      assert.equal((await fetch(`${server.url}${path}`, { headers: { 'X-Tclocal-Admin-Token': 'console-test-token' } })).status, 200, path);
    }
    const foreign = await fetch(`${server.url}/_tclocal/ui`, { headers: { Origin: 'http://evil.example' } });
    assert.equal(foreign.status, 403);
  });
});
