/**
 * Result callbacks to a real HTTP server on 127.0.0.1: body, X-Signature,
 * retries with backoff, and no waiting on them in the API call.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../src/server';
import { assertResponseShape } from '../../support/response-shape';
import { cnClient, intlClient, MANUAL_TRANSITIONS, startTclocal } from '../../helpers';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  path: string;
}

/** A callback receiver; `answer` picks the status (and delay) of each call. */
async function receiver(answer: (n: number) => { status: number; delayMs?: number } = () => ({ status: 200 })) {
  const got: Received[] = [];
  const waiters: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), path: req.url ?? '' });
      const a = answer(got.length);
      setTimeout(() => {
        res.writeHead(a.status);
        res.end('ok');
        waiters.splice(0).forEach((w) => w());
      }, a.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    got,
    async waitFor(n: number, timeoutMs = 5000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (got.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} callbacks, got ${got.length}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
    close: () => new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

const sig = (seed: string, body: string) => createHash('sha256').update(seed + body).digest('hex');

describe('AMS result callbacks', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
  });
  after(() => server.stop());

  it('POSTs the finished result, signed with sha256(Seed + body), to the CallbackUrl only', async () => {
    const r = await receiver();
    try {
      const cn = cnClient('ams', server);
      const res = await cn.CreateAudioModerationTask({
        Seed: 'my-seed', CallbackUrl: `${r.url}/hook?x=1`, BizType: 'cb_biz',
        Tasks: [{ DataId: 'block-ad-1', Name: 'clip', Input: { Url: 'https://media.example.com/cb.mp3' } }],
      });
      assertResponseShape('ams', 'CreateAudioModerationTask', res);
      await r.waitFor(1);
      const [call] = r.got;
      assert.equal(call.path, '/hook?x=1');
      assert.equal(call.headers['content-type'], 'application/json');
      assert.equal(call.headers['x-signature'], sig('my-seed', call.body));
      const body = JSON.parse(call.body);
      assert.equal(body.TaskId, res.Results[0].TaskId);
      assert.equal(body.DataId, 'block-ad-1');
      assert.equal(body.Status, 'FINISH');
      assert.equal(body.Suggestion, 'Block');
      assert.equal(body.Label, 'Ad');
      assert.equal(body.BizType, 'cb_biz');
      assert.equal(body.AudioSegments.length, 1);
      // The same result DescribeTaskDetail gives.
      const d = await cn.DescribeTaskDetail({ TaskId: body.TaskId });
      assert.deepEqual({ ...d, RequestId: undefined }, { ...body, RequestId: undefined });
      await new Promise((x) => setTimeout(x, 200));
      assert.equal(r.got.length, 1, 'one delivery when the receiver accepts it');
    } finally {
      await r.close();
    }
  });

  it('retries a failing receiver with backoff', async () => {
    const r = await receiver((n) => ({ status: n < 3 ? 503 : 200 }));
    try {
      const started = Date.now();
      await intlClient('ams', server).CreateAudioModerationTask({
        Seed: 's', CallbackUrl: r.url, Tasks: [{ DataId: 'retry', Input: { Url: 'https://media.example.com/r.mp3' } }],
      });
      await r.waitFor(3, 8000);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 2000, `backoff waited ${elapsed} ms before the third attempt`);
      assert.equal(r.got[0].body, r.got[2].body);
      await new Promise((x) => setTimeout(x, 100));
      assert.equal(r.got.length, 3);
    } finally {
      await r.close();
    }
  });

  it('does not hold the API call while the receiver is slow; no Seed means no X-Signature', async () => {
    const r = await receiver(() => ({ status: 200, delayMs: 1500 }));
    try {
      const cn = cnClient('ams', server);
      const t0 = Date.now();
      await cn.CreateAudioModerationTask({ CallbackUrl: r.url, Tasks: [{ DataId: 'slow', Input: { Url: 'https://media.example.com/s.mp3' } }] });
      assert.ok(Date.now() - t0 < 1000, 'the call returned before the callback was answered');
      await r.waitFor(1);
      assert.equal(r.got[0].headers['x-signature'], undefined);
      // Other calls are served meanwhile.
      const t1 = Date.now();
      await cn.DescribeTasks({});
      assert.ok(Date.now() - t1 < 1000);
    } finally {
      await r.close();
    }
  });

  it('a live task reports its first segment when it starts RUNNING; tasks without CallbackUrl send nothing', async () => {
    const r = await receiver();
    try {
      const cn = cnClient('ams', server);
      await cn.CreateAudioModerationTask({ Tasks: [{ DataId: 'quiet', Input: { Url: 'https://media.example.com/q.mp3' } }] });
      const res = await cn.CreateAudioModerationTask({
        Type: 'LIVE_AUDIO', Seed: 'live-seed', CallbackUrl: r.url,
        Tasks: [{ DataId: 'review-abuse-live', Input: { Url: 'rtmp://live.example.com/app/s' } }],
      });
      await r.waitFor(1);
      const body = JSON.parse(r.got[0].body);
      assert.equal(r.got[0].headers['x-signature'], sig('live-seed', r.got[0].body));
      assert.equal(body.TaskId, res.Results[0].TaskId);
      assert.equal(body.Status, 'RUNNING');
      assert.equal(body.Suggestion, 'Review');
      assert.equal(body.Label, 'Abuse');
      await new Promise((x) => setTimeout(x, 200));
      assert.equal(r.got.length, 1);
    } finally {
      await r.close();
    }
  });
});

describe('AMS callbacks and CancelTask', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ ...MANUAL_TRANSITIONS, rateLimits: false });
  });
  after(() => server.stop());

  it('a task cancelled before it finishes sends no callback; its neighbour does', async () => {
    const r = await receiver();
    try {
      const cn = cnClient('ams', server);
      const res = await cn.CreateAudioModerationTask({
        Seed: 'k', CallbackUrl: r.url,
        Tasks: [
          { DataId: 'cancel-me', Input: { Url: 'https://media.example.com/1.mp3' } },
          { DataId: 'keep-me', Input: { Url: 'https://media.example.com/2.mp3' } },
        ],
      });
      await cn.CancelTask({ TaskId: res.Results[0].TaskId });
      const adv = await fetch(server.url + '/_tclocal/transitions/advance', { method: 'POST' });
      assert.equal(adv.status, 200);
      await r.waitFor(1);
      await new Promise((x) => setTimeout(x, 300));
      assert.equal(r.got.length, 1);
      const body = JSON.parse(r.got[0].body);
      assert.equal(body.DataId, 'keep-me');
      assert.equal(body.Status, 'FINISH');
      assert.equal((await cn.DescribeTaskDetail({ TaskId: res.Results[0].TaskId })).Status, 'CANCELLED');
    } finally {
      await r.close();
    }
  });
});
