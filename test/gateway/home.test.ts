/** A browser at `/` gets a short page naming the endpoints; API clients are not affected. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { startTclocal } from '../helpers';

describe('home page', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal();
  });
  after(() => server.stop());

  it('answers a browser with HTML naming the endpoints and the README', async () => {
    const res = await fetch(`${server.url}/`, { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    for (const s of ['/_tclocal/health', 'DescribeDestRegions', 'myqcloud.com', 'README', 'tclocal ca']) assert.ok(html.includes(s), `page lacks ${s}`);
  });

  it('a request without Action and without Accept: text/html still gets the API error', async () => {
    const res = await fetch(`${server.url}/`);
    const body = (await res.json()) as any;
    assert.equal(body.Response.Error.Code, 'MissingParameter');
  });
});
