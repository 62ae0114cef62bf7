/**
 * AMS audio moderation tasks and CancelTask through the official SDKs:
 * cancel accepted while PENDING or RUNNING, refused once FINISH, ERROR or
 * CANCELLED, for unknown ids and other accounts, and under its 20/s limit;
 * the moderation rules; DescribeTasks filters and paging.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../src/server';
import { decideOutcome } from '../../../src/services/ams/moderation';
import { assertResponseShape } from '../../support/response-shape';
import { ACCOUNT_A, ACCOUNT_B, advance, cnClient, errorCode, intlClient, MANUAL_TRANSITIONS, startTclocal } from '../../helpers';

describe('AMS CancelTask and the task lifecycle', () => {
  let server: RunningServer;
  let cn: any;
  let intl: any;
  before(async () => {
    server = await startTclocal({ ...MANUAL_TRANSITIONS, rateLimits: false });
    cn = cnClient('ams', server, { account: ACCOUNT_A });
    intl = intlClient('ams', server, { account: ACCOUNT_A });
  });
  after(() => server.stop());

  async function create(client: any, params: Record<string, unknown>): Promise<any[]> {
    const res = await client.CreateAudioModerationTask(params);
    assertResponseShape('ams', 'CreateAudioModerationTask', res);
    return res.Results;
  }

  async function one(client: any, params: Record<string, unknown>): Promise<string> {
    const [r] = await create(client, params);
    assert.equal(r.Code, 'OK', r.Message);
    assert.match(r.TaskId, /^w-audio-[A-Za-z0-9]{18}$/);
    return r.TaskId;
  }

  async function detail(id: string, showAll = false): Promise<any> {
    const res = await cn.DescribeTaskDetail({ TaskId: id, ShowAllSegments: showAll });
    assertResponseShape('ams', 'DescribeTaskDetail', res);
    return res;
  }

  it('cancels a PENDING AUDIO task; it stays CANCELLED when its schedule comes', async () => {
    const id = await one(cn, { Tasks: [{ DataId: 'd1', Name: 'song', Input: { Type: 'URL', Url: 'https://media.example.com/a.mp3' } }], BizType: 'default_biz' });
    const d = await detail(id);
    assert.equal(d.Status, 'PENDING');
    assert.equal(d.Type, 'AUDIO');
    assert.equal(d.DataId, 'd1');
    assert.equal(d.InputInfo.Url, 'https://media.example.com/a.mp3');
    const res = await cn.CancelTask({ TaskId: id });
    assertResponseShape('ams', 'CancelTask', res);
    assert.ok(res.RequestId);
    const c = await detail(id);
    assert.equal(c.Status, 'CANCELLED');
    assert.ok(Date.parse(c.UpdatedAt) >= Date.parse(c.CreatedAt));
    await advance(server);
    assert.equal((await detail(id)).Status, 'CANCELLED');
    const listed = await cn.DescribeTasks({ Filter: { TaskStatus: 'CANCELLED' } });
    assertResponseShape('ams', 'DescribeTasks', listed);
    assert.ok(listed.Data.some((t: any) => t.TaskId === id));
  });

  it('cancels a RUNNING LIVE_AUDIO task created through the intl SDK form; a second cancel is refused', async () => {
    const [r] = await intl.CreateAudioModerationTask({ Type: 'LIVE_AUDIO', BizType: 'live_biz', Tasks: [{ DataId: 'live1', Name: 'room', Input: { Type: 'URL', Url: 'rtmp://live.example.com/app/stream' } }] }).then((x: any) => x.Results);
    assert.equal(r.Code, 'OK');
    assert.equal((await detail(r.TaskId)).Status, 'PENDING');
    await advance(server);
    const running = await detail(r.TaskId);
    assert.equal(running.Status, 'RUNNING');
    assert.equal(running.Type, 'LIVE_AUDIO');
    await advance(server);
    assert.equal((await detail(r.TaskId)).Status, 'RUNNING', 'a live task runs until cancelled');
    const res = await intl.CancelTask({ TaskId: r.TaskId });
    assertResponseShape('ams', 'CancelTask', res);
    assert.equal((await detail(r.TaskId)).Status, 'CANCELLED');
    assert.equal(await errorCode(intl.CancelTask({ TaskId: r.TaskId })), 'OperationDenied');
    assert.equal(await errorCode(cn.CancelTask({ TaskId: r.TaskId })), 'OperationDenied');
  });

  it('refuses to cancel a FINISH task (too late) and an ERROR task', async () => {
    const done = await one(cn, { Tasks: [{ DataId: 'fin', Input: { Url: 'https://media.example.com/b.mp3' } }] });
    const failed = await one(cn, { Tasks: [{ DataId: 'error-decode', Input: { Url: 'https://media.example.com/c.mp3' } }] });
    await advance(server);
    const f = await detail(done);
    assert.equal(f.Status, 'FINISH');
    assert.equal(f.Suggestion, 'Pass');
    assert.equal(f.Label, 'Normal');
    assert.equal(await errorCode(cn.CancelTask({ TaskId: done })), 'OperationDenied');
    assert.equal((await detail(done)).Status, 'FINISH');
    const e = await detail(failed);
    assert.equal(e.Status, 'ERROR');
    assert.equal(e.ErrorType, 'DECODE_ERROR');
    assert.ok(e.ErrorDescription.length > 0);
    assert.equal(await errorCode(cn.CancelTask({ TaskId: failed })), 'OperationDenied');
    assert.equal((await detail(failed)).Status, 'ERROR');
  });

  it('answers ResourceNotFound for an unknown id and for another account', async () => {
    assert.equal(await errorCode(cn.CancelTask({ TaskId: 'w-audio-doesnotexist0000000' })), 'ResourceNotFound');
    assert.equal(await errorCode(intl.CancelTask({ TaskId: 'w-audio-doesnotexist0000000' })), 'ResourceNotFound');
    const id = await one(cn, { Tasks: [{ Input: { Url: 'https://media.example.com/mine.mp3' } }] });
    const b = cnClient('ams', server, { account: ACCOUNT_B });
    assert.equal(await errorCode(b.CancelTask({ TaskId: id })), 'ResourceNotFound');
    assert.equal(await errorCode(intlClient('ams', server, { account: ACCOUNT_B }).CancelTask({ TaskId: id })), 'ResourceNotFound');
    assert.equal(await errorCode(b.DescribeTaskDetail({ TaskId: id })), 'ResourceNotFound');
    assert.equal((await detail(id)).Status, 'PENDING');
    const bList = await b.DescribeTasks({});
    assert.ok(!bList.Data.some((t: any) => t.TaskId === id));
  });

  it('chooses Suggestion and Label by the documented markers', async () => {
    const results = await create(cn, {
      BizType: 'review_abuse',
      Tasks: [
        { DataId: 'block-porn', Input: { Url: 'https://media.example.com/x.mp3' } },
        { DataId: 'n2', Input: { Url: 'https://media.example.com/review-ad/y.mp3' } },
        { DataId: 'n3', Name: 'pass', Input: { Url: 'https://media.example.com/z.mp3' } },
        { DataId: 'n4', Input: { Type: 'COS', BucketInfo: { Bucket: 'b-1250000000', Region: 'ap-guangzhou', Object: 'audio/block-moan.wav' } } },
        { DataId: 'n5', Input: { Url: 'https://media.example.com/plain.mp3' } },
      ],
    });
    assert.deepEqual(results.map((r) => r.Code), ['OK', 'OK', 'OK', 'OK', 'OK']);
    await advance(server);
    const [porn, ad, pass, moan, biz] = await Promise.all(results.map((r) => detail(r.TaskId)));
    assert.deepEqual([porn.Suggestion, porn.Label], ['Block', 'Porn']);
    assert.deepEqual(porn.Labels.map((l: any) => [l.Label, l.Suggestion]), [['Porn', 'Block']]);
    assert.equal(porn.AudioSegments.length, 1, 'only the hit segment by default');
    assert.equal(porn.AudioSegments[0].Result.HitFlag, 1);
    assert.equal((await detail(porn.TaskId, true)).AudioSegments.length, 3);
    assert.deepEqual([ad.Suggestion, ad.Label], ['Review', 'Ad']);
    assert.deepEqual([pass.Suggestion, pass.Label, pass.Labels, pass.AudioSegments], ['Pass', 'Normal', [], []]);
    assert.deepEqual([moan.Suggestion, moan.Label], ['Block', 'Moan']);
    assert.equal(moan.InputInfo.Type, 'COS');
    assert.equal(moan.InputInfo.BucketInfo.Object, 'audio/block-moan.wav');
    assert.equal(moan.AudioSegments[0].Result.MoanResults.length, 1);
    assert.deepEqual([biz.Suggestion, biz.Label], ['Review', 'Abuse'], 'the BizType marker applies last');
    // Filters on the outcome.
    const blocked = await cn.DescribeTasks({ Filter: { Suggestion: 'Block', BizType: 'review_abuse' } });
    assert.deepEqual(blocked.Data.map((t: any) => t.TaskId).sort(), [porn.TaskId, moan.TaskId].sort());
    assert.equal(blocked.Total, '2');
  });

  it('the rules ignore markers inside words', () => {
    assert.deepEqual(decideOutcome(['bypass-blockade', 'reviews']), { suggestion: 'Pass', label: 'Normal', error: null });
    assert.equal(decideOutcome(['x_block_abuse_y']).label, 'Abuse');
    assert.equal(decideOutcome(['error']).error?.type, 'URL_ERROR');
  });

  it('reports per-task problems in Results and whole-call problems as errors', async () => {
    const results = await create(cn, {
      Tasks: [
        { DataId: 'bad id!', Input: { Url: 'https://media.example.com/a.mp3' } },
        { DataId: 'no-url', Input: { Type: 'URL' } },
        { DataId: 'ftp', Input: { Url: 'ftp://media.example.com/a.mp3' } },
        { DataId: 'fine', Input: { Url: 'https://media.example.com/a.mp3' } },
      ],
    });
    assert.deepEqual(results.map((r) => r.Code), ['InvalidParameterValue', 'MissingParameter', 'InvalidParameterValue', 'OK']);
    assert.deepEqual(results.slice(0, 3).map((r) => r.TaskId), ['', '', '']);
    assert.ok(results[0].Message.includes('DataId'));
    const eleven = Array.from({ length: 11 }, (_, i) => ({ DataId: `t${i}`, Input: { Url: 'https://media.example.com/a.mp3' } }));
    assert.equal(await errorCode(cn.CreateAudioModerationTask({ Tasks: eleven })), 'InvalidParameterValue');
    assert.equal(await errorCode(cn.CreateAudioModerationTask({ Tasks: [] })), 'InvalidParameterValue');
    assert.equal(await errorCode(cn.CreateAudioModerationTask({ Type: 'VIDEO', Tasks: eleven.slice(0, 1) })), 'InvalidParameterValue');
    assert.equal(await errorCode(cn.CreateAudioModerationTask({ BizType: 'x', Tasks: eleven.slice(0, 1) })), 'InvalidParameterValue');
    assert.equal(await errorCode(cn.CreateAudioModerationTask({ CallbackUrl: 'not-a-url', Tasks: eleven.slice(0, 1) })), 'InvalidParameterValue');
  });

  it('DescribeTasks pages with PageToken, Total as a string, time window and filters', async () => {
    const b = cnClient('ams', server, { account: ACCOUNT_B });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await b.CreateAudioModerationTask({ BizType: 'paging_biz', Tasks: [{ DataId: `p${i}`, Input: { Url: `https://media.example.com/${i}.mp3` } }] });
      ids.push(res.Results[0].TaskId);
      await new Promise((r) => setTimeout(r, 3));
    }
    await b.CreateAudioModerationTask({ Type: 'LIVE_AUDIO', BizType: 'other_biz', Tasks: [{ DataId: 'live', Input: { Url: 'rtmp://x.example.com/live' } }] });
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = await b.DescribeTasks({ Limit: 2, PageToken: token || undefined, Filter: { BizType: 'paging_biz' } });
      assertResponseShape('ams', 'DescribeTasks', page);
      assert.equal(page.Total, '5');
      seen.push(...page.Data.map((t: any) => t.TaskId));
      token = page.PageToken;
      pages++;
    } while (token && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...ids].reverse(), 'newest first, each task once');
    const live = await b.DescribeTasks({ Filter: { Type: 'LIVE_AUDIO' } });
    assert.equal(live.Total, '1');
    assert.equal(live.Data[0].Type, 'LIVE_AUDIO');
    const future = await b.DescribeTasks({ StartTime: new Date(Date.now() + 60_000).toISOString() });
    assert.deepEqual([future.Total, future.Data, future.PageToken], ['0', [], '']);
    const past = await b.DescribeTasks({ StartTime: new Date(Date.now() - 10 * 86_400_000).toISOString(), EndTime: new Date(Date.now() - 5 * 86_400_000).toISOString() });
    assert.equal(past.Total, '0');
    assert.equal(await errorCode(b.DescribeTasks({ StartTime: 'yesterday' })), 'InvalidParameterValue');
    assert.equal(await errorCode(b.DescribeTasks({ PageToken: 'garbage' })), 'InvalidParameterValue');
    assert.equal(await errorCode(b.DescribeTasks({ Filter: { TaskStatus: 'DONE' } })), 'InvalidParameterValue');
    // The intl SDK sends the filter flattened in a form.
    const viaIntl = await intlClient('ams', server, { account: ACCOUNT_B }).DescribeTasks({ Limit: 3, Filter: { BizType: 'paging_biz', TaskStatus: 'PENDING' } });
    assert.equal(viaIntl.Total, '5');
    assert.equal(viaIntl.Data.length, 3);
  });

  it('tasks older than 3 days are outside the default window', async () => {
    const id = await one(cn, { BizType: 'old_biz', Tasks: [{ Input: { Url: 'https://media.example.com/old.mp3' } }] });
    const dump = (await (await fetch(server.url + '/_tclocal/state')).json()) as any;
    const row = dump.tables.resources.find((r: any) => r.kind === 'ams.task' && r.id === id);
    const data = JSON.parse(row.data);
    data.CreatedMs -= 4 * 86_400_000;
    row.data = JSON.stringify(data);
    row.created_at = data.CreatedMs;
    assert.equal((await fetch(server.url + '/_tclocal/state', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(dump) })).status, 200);
    assert.equal((await cn.DescribeTasks({ Filter: { BizType: 'old_biz' } })).Total, '0');
    const wide = await cn.DescribeTasks({ Filter: { BizType: 'old_biz' }, StartTime: new Date(Date.now() - 5 * 86_400_000).toISOString() });
    assert.deepEqual(wide.Data.map((t: any) => t.TaskId), [id]);
  });

  it('refuses live tasks beyond 100 running at once, per task', async () => {
    const c = cnClient('ams', server, { account: ACCOUNT_B });
    await c.CreateAudioModerationTask({ Type: 'LIVE_AUDIO', Tasks: [{ DataId: 'extra', Input: { Url: 'rtmp://live.example.com/z' } }] });
    let existing = 0;
    for (const TaskStatus of ['PENDING', 'RUNNING']) existing += Number((await c.DescribeTasks({ Filter: { Type: 'LIVE_AUDIO', TaskStatus } })).Total);
    const first: string[] = [];
    for (let call = 0; call < 10; call++) {
      const res = await c.CreateAudioModerationTask({
        Type: 'LIVE_AUDIO', BizType: 'crowd',
        Tasks: Array.from({ length: 10 }, (_, i) => ({ DataId: `c${call}-${i}`, Input: { Url: 'rtmp://live.example.com/a' } })),
      });
      first.push(...res.Results.map((r: any) => r.Code));
    }
    assert.equal(first.filter((x) => x === 'OK').length, 100 - existing);
    assert.ok(existing >= 1);
    assert.deepEqual(first.slice(100 - existing), Array(existing).fill('RequestLimitExceeded'));
    const list = await c.DescribeTasks({ Limit: 1, Filter: { BizType: 'crowd' } });
    await c.CancelTask({ TaskId: list.Data[0].TaskId });
    const again = await c.CreateAudioModerationTask({ Type: 'LIVE_AUDIO', Tasks: [{ Input: { Url: 'rtmp://live.example.com/a' } }] });
    assert.equal(again.Results[0].Code, 'OK');
  });
});

describe('AMS CancelTask of a RUNNING on-demand task (automatic transitions)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ transitionMs: 50, amsAudioMs: 60_000, rateLimits: false });
  });
  after(() => server.stop());

  it('PENDING → RUNNING on its own, then CancelTask → CANCELLED', async () => {
    const cn = cnClient('ams', server);
    const { Results } = await cn.CreateAudioModerationTask({ Tasks: [{ Input: { Url: 'https://media.example.com/long.mp3' } }] });
    const id = Results[0].TaskId;
    let status = '';
    for (let i = 0; i < 100 && status !== 'RUNNING'; i++) {
      status = (await cn.DescribeTaskDetail({ TaskId: id })).Status;
      if (status !== 'RUNNING') await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, 'RUNNING');
    await cn.CancelTask({ TaskId: id });
    const d = await cn.DescribeTaskDetail({ TaskId: id });
    assertResponseShape('ams', 'DescribeTaskDetail', d);
    assert.equal(d.Status, 'CANCELLED');
    assert.equal(d.Suggestion, '');
  });
});

describe('AMS CancelTask rate limit', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: true });
  });
  after(() => server.stop());

  it('answers RequestLimitExceeded beyond 20 calls per second per account', async () => {
    const cn = cnClient('ams', server, { account: ACCOUNT_A });
    const codes = await Promise.all(Array.from({ length: 45 }, () => errorCode(cn.CancelTask({ TaskId: 'w-audio-unknown' }))));
    const limited = codes.filter((c) => c === 'RequestLimitExceeded').length;
    const served = codes.filter((c) => c === 'ResourceNotFound').length;
    assert.equal(limited + served, 45, codes.join(','));
    assert.ok(served >= 20 && served <= 40, `served ${served}`);
    const b = cnClient('ams', server, { account: ACCOUNT_B });
    assert.equal(await errorCode(b.CancelTask({ TaskId: 'w-audio-unknown' })), 'ResourceNotFound');
  });
});
