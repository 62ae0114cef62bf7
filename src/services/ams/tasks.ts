/**
 * Audio moderation tasks: creation, their PENDING → RUNNING → FINISH life on
 * the transition scheduler (LIVE_AUDIO runs until cancelled), reads, and
 * CancelTask.
 */
import { ApiError, invalidParameterValue } from '../../core/errors';
import type { AmsActions, CancelTaskRequest, CreateAudioModerationTaskRequest, DescribeTaskDetailRequest, DescribeTasksRequest, TaskInput, TaskResult } from '../../spec/ams.types';
import type { Store, StoreTx } from '../../store/types';
import { randomAlphanumeric } from '../../core/ids';
import { isUrl } from '../common';
import { paging } from '../kit/paging';
import type { ActionContext, HandlerPart, TransitionHandler } from '../types';
import type { CallbackOutbox } from './callbacks';
import {
  detailView, KIND, listView, putTask, TASK_STATUSES, taskLife, type TaskRecord, type TaskStatus,
} from './model';
import { decideOutcome, fileSegments, liveSegment } from './moderation';

const SERVICE = 'ams';
const MAX_TASKS = 10;
/** Live tasks an account may run at once (SDK documentation: 100 by default). */
export const LIVE_CONCURRENCY = 100;
const DEFAULT_WINDOW_MS = 3 * 86_400_000;
const MAX_LIMIT = 100;

/** `w-audio-` and 18 letters and digits, as the service's task IDs look. */
export function taskId(): string {
  return `w-audio-${randomAlphanumeric(18)}`;
}

const DATA_ID = /^[A-Za-z0-9_\-@#]{1,64}$/;
const BIZ_TYPE = /^[A-Za-z0-9_]{3,32}$/;

interface TaskFailure {
  code: string;
  message: string;
}

/** The task's media, or why it cannot be moderated. */
function readInput(t: TaskInput, live: boolean): { type: 'URL' | 'COS'; url: string; bucket: TaskRecord['Bucket'] } | TaskFailure {
  const input = t.Input;
  if (!input) return { code: 'MissingParameter', message: 'The task is missing its `Input`.' };
  const type = (input.Type || (input.BucketInfo ? 'COS' : 'URL')).toUpperCase();
  if (type === 'URL') {
    if (!input.Url) return { code: 'MissingParameter', message: 'The task is missing `Input.Url` (Input.Type is URL).' };
    const schemes = live ? ['rtmp:', 'rtmps:', 'http:', 'https:', 'rtsp:'] : ['http:', 'https:'];
    if (!isUrl(input.Url, schemes)) {
      return { code: 'InvalidParameterValue', message: `The value of \`Input.Url\` is not valid: expected a ${live ? 'live stream (rtmp, http, https)' : 'http or https'} address.` };
    }
    return { type: 'URL', url: input.Url, bucket: null };
  }
  if (type === 'COS') {
    const b = input.BucketInfo;
    if (!b?.Bucket || !b.Region || !b.Object) {
      return { code: 'MissingParameter', message: 'The task is missing `Input.BucketInfo` (Bucket, Region and Object; Input.Type is COS).' };
    }
    return { type: 'COS', url: '', bucket: { Bucket: b.Bucket, Region: b.Region, Object: b.Object } };
  }
  return { code: 'InvalidParameterValue', message: 'The value of `Input.Type` is not valid: expected URL or COS.' };
}

async function getTask(ctx: ActionContext, id: string): Promise<TaskRecord> {
  const rec = id ? await ctx.tx.get<TaskRecord>(KIND, id) : undefined;
  if (!rec) throw new ApiError('ResourceNotFound', `The task \`${id}\` does not exist.`);
  return rec.data;
}

function parseTime(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw invalidParameterValue(name, 'expected an ISO 8601 time such as 2024-10-23T07:56:17Z');
  return ms;
}

interface Cursor {
  t: number;
  id: string;
}

const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify(c)).toString('base64url');

function decodeCursor(token: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor;
    if (typeof c.t === 'number' && typeof c.id === 'string') return c;
  } catch {
    // reported below
  }
  throw invalidParameterValue('PageToken', 'use the PageToken of the previous page');
}

/** Newest first; ties by TaskId, descending. */
const order = (a: TaskRecord, b: TaskRecord): number => b.CreatedMs - a.CreatedMs || (a.TaskId < b.TaskId ? 1 : a.TaskId > b.TaskId ? -1 : 0);
const after = (t: TaskRecord, c: Cursor): boolean => t.CreatedMs < c.t || (t.CreatedMs === c.t && t.TaskId < c.id);

export function taskModule(outbox: CallbackOutbox) {
  async function notify(tx: StoreTx, t: TaskRecord): Promise<void> {
    if (!t.CallbackUrl) return;
    await outbox.enqueue(tx, { url: t.CallbackUrl, seed: t.Seed, body: JSON.stringify(detailView(t, false)) });
  }

  async function finish(tx: StoreTx, t: TaskRecord, now: number): Promise<void> {
    const o = t.Outcome;
    const done: TaskRecord = o.error
      ? { ...t, Status: 'ERROR', ErrorType: o.error.type, ErrorDescription: o.error.description, UpdatedMs: now, Finished: true }
      : { ...t, Status: 'FINISH', Suggestion: o.suggestion, Segments: fileSegments(o, now), UpdatedMs: now, Finished: true };
    await putTask(tx, done);
    await notify(tx, done);
  }

  const start: TransitionHandler = async (p: { TaskId: string; AudioMs?: number | null }, tx, now) => {
    const rec = await tx.get<TaskRecord>(KIND, p.TaskId);
    if (!rec || rec.data.Status !== 'PENDING') return;
    const t = rec.data;
    if (t.Type === 'LIVE_AUDIO') {
      if (t.Outcome.error) {
        const failed: TaskRecord = { ...t, Status: 'ERROR', ErrorType: t.Outcome.error.type, ErrorDescription: t.Outcome.error.description, UpdatedMs: now };
        await putTask(tx, failed);
        await notify(tx, failed);
        return;
      }
      // A live stream is RUNNING until cancelled; its first segment is moderated at once.
      const running: TaskRecord = { ...t, Status: 'RUNNING', Suggestion: t.Outcome.suggestion, Segments: [liveSegment(t.Outcome, now)], UpdatedMs: now };
      await putTask(tx, running);
      await notify(tx, running);
      return;
    }
    const running: TaskRecord = { ...t, Status: 'RUNNING', UpdatedMs: now };
    const pendingFor = now - t.CreatedMs;
    if (pendingFor <= 0) {
      // Zero transition time: the whole life happens within the creating request.
      await finish(tx, running, now);
      return;
    }
    await putTask(tx, running);
    await tx.schedule(SERVICE, 'finish', now + (p.AudioMs ?? pendingFor), { TaskId: t.TaskId });
  };

  const finishTransition: TransitionHandler = async (p: { TaskId: string }, tx, now) => {
    const rec = await tx.get<TaskRecord>(KIND, p.TaskId);
    if (!rec || rec.data.Status !== 'RUNNING') return;
    await finish(tx, rec.data, now);
  };

  async function create(input: CreateAudioModerationTaskRequest, ctx: ActionContext) {
    if (input.Tasks.length < 1 || input.Tasks.length > MAX_TASKS) {
      throw invalidParameterValue('Tasks', `between 1 and ${MAX_TASKS} tasks per call (got ${input.Tasks.length})`);
    }
    const type = (input.Type || 'AUDIO').toUpperCase();
    if (!['AUDIO', 'LIVE_AUDIO', 'AUDIO_AIGC'].includes(type)) throw invalidParameterValue('Type', 'expected AUDIO or LIVE_AUDIO');
    const bizType = input.BizType ?? '';
    if (bizType !== '' && !BIZ_TYPE.test(bizType)) throw invalidParameterValue('BizType', '3 to 32 letters, digits or underscores');
    const callbackUrl = input.CallbackUrl ?? '';
    if (callbackUrl !== '' && !isUrl(callbackUrl, ['http:', 'https:'])) throw invalidParameterValue('CallbackUrl', 'expected an http or https URL');
    const live = type === 'LIVE_AUDIO';
    let liveRunning = live
      ? (await ctx.tx.list<TaskRecord>(KIND, { statusIn: ['PENDING', 'RUNNING'], where: [{ field: 'Type', values: ['LIVE_AUDIO'] }], limit: 1 })).total
      : 0;
    const results: TaskResult[] = [];
    for (const t of input.Tasks) {
      const dataId = t.DataId ?? '';
      const fail = (f: TaskFailure) => results.push({ DataId: dataId, TaskId: '', Code: f.code, Message: f.message });
      if (dataId !== '' && !DATA_ID.test(dataId)) {
        fail({ code: 'InvalidParameterValue', message: 'The value of `DataId` is not valid: up to 64 letters, digits and _-@#.' });
        continue;
      }
      const media = readInput(t, live);
      if ('code' in media) {
        fail(media);
        continue;
      }
      if (live && liveRunning >= LIVE_CONCURRENCY) {
        fail({ code: 'RequestLimitExceeded', message: `You have reached the concurrency limit of ${LIVE_CONCURRENCY} live tasks.` });
        continue;
      }
      const name = t.Name ?? '';
      const record: TaskRecord = {
        TaskId: taskId(),
        DataId: dataId,
        Name: name,
        BizType: bizType,
        Type: type === 'AUDIO_AIGC' ? 'AUDIO' : type,
        Status: 'PENDING',
        Suggestion: '',
        InputType: media.type,
        Url: media.url,
        Bucket: media.bucket,
        Outcome: decideOutcome([dataId, name, media.url || `${media.bucket?.Bucket}/${media.bucket?.Object}`, bizType]),
        Segments: [],
        ErrorType: '',
        ErrorDescription: '',
        CreatedMs: ctx.now,
        UpdatedMs: ctx.now,
        Finished: false,
        Seed: input.Seed ?? '',
        CallbackUrl: callbackUrl,
      };
      if (live) liveRunning++;
      await putTask(ctx.tx, record);
      await ctx.later('start', { TaskId: record.TaskId, AudioMs: ctx.settings.amsAudioMs });
      results.push({ DataId: dataId, TaskId: record.TaskId, Code: 'OK', Message: 'Success' });
    }
    return { Results: results };
  }

  async function describeTasks(input: DescribeTasksRequest, ctx: ActionContext) {
    const { limit } = paging({ Limit: input.Limit }, { defaultLimit: 10, minLimit: 1, maxLimit: MAX_LIMIT, overMax: 'clamp' });
    const f = input.Filter ?? {};
    if (f.Type && !['AUDIO', 'LIVE_AUDIO', 'VIDEO', 'LIVE_VIDEO', 'AUDIO_AIGC'].includes(f.Type)) {
      throw invalidParameterValue('Filter.Type', 'expected AUDIO or LIVE_AUDIO');
    }
    if (f.Suggestion && !['Pass', 'Review', 'Block'].includes(f.Suggestion)) throw invalidParameterValue('Filter.Suggestion', 'expected Pass, Review or Block');
    if (f.TaskStatus && !TASK_STATUSES.includes(f.TaskStatus as TaskStatus)) {
      throw invalidParameterValue('Filter.TaskStatus', `expected one of ${TASK_STATUSES.join(', ')}`);
    }
    const start = parseTime('StartTime', input.StartTime) ?? ctx.now - DEFAULT_WINDOW_MS;
    const end = parseTime('EndTime', input.EndTime);
    const cursor = input.PageToken ? decodeCursor(input.PageToken) : undefined;
    const where = [];
    if (f.BizType) where.push({ field: 'BizType', values: [f.BizType] });
    if (f.Type) where.push({ field: 'Type', values: [f.Type === 'AUDIO_AIGC' ? 'AUDIO' : f.Type] });
    if (f.Suggestion) where.push({ field: 'Suggestion', values: [f.Suggestion] });
    const { items } = await ctx.tx.list<TaskRecord>(KIND, { statusIn: f.TaskStatus ? [f.TaskStatus] : undefined, where });
    const matching = items.map((r) => r.data).filter((t) => t.CreatedMs >= start && (end === undefined || t.CreatedMs <= end)).sort(order);
    const rest = cursor ? matching.filter((t) => after(t, cursor)) : matching;
    const page = rest.slice(0, limit);
    const last = page[page.length - 1];
    return {
      Total: String(matching.length),
      Data: page.map(listView),
      PageToken: rest.length > limit && last ? encodeCursor({ t: last.CreatedMs, id: last.TaskId }) : '',
    };
  }

  async function cancel(input: CancelTaskRequest, ctx: ActionContext) {
    const t = await getTask(ctx, input.TaskId);
    if (!taskLife.busy.has(t.Status)) {
      throw new ApiError('OperationDenied', `The task \`${t.TaskId}\` is ${t.Status} and can no longer be cancelled; only PENDING or RUNNING tasks can.`);
    }
    await putTask(ctx.tx, { ...t, Status: 'CANCELLED', UpdatedMs: ctx.now });
    return {};
  }

  const handlers = {
    CreateAudioModerationTask: create,
    DescribeTaskDetail: async (input: DescribeTaskDetailRequest, ctx) => detailView(await getTask(ctx, input.TaskId), input.ShowAllSegments === true),
    DescribeTasks: describeTasks,
    CancelTask: cancel,
  } satisfies HandlerPart<AmsActions>;
  const transitions: Record<string, TransitionHandler> = { start, finish: finishTransition };
  const prepare = (store: Store): void => {
    outbox.attach(store);
    store.ensureFieldIndex(KIND, 'Type');
    store.ensureFieldIndex(KIND, 'BizType');
  };
  return { handlers, transitions, prepare };
}
