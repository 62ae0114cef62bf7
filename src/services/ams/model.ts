/**
 * Audio moderation tasks: the stored record and the views DescribeTaskDetail,
 * DescribeTasks and callbacks use.
 */
import type { AudioSegments, BucketInfo, DescribeTaskDetailResponse, InputInfo, MediaInfo, TaskData, TaskLabel } from '../../spec/ams.types';
import type { StoreTx } from '../../store/types';
import { lifecycle } from '../kit/lifecycle';
import { AUDIO_SEGMENT_MS, SUB_LABELS, scoreOf, type Outcome } from './moderation';

export const KIND = 'ams.task';

export type TaskStatus = 'PENDING' | 'RUNNING' | 'FINISH' | 'ERROR' | 'CANCELLED';
export const TASK_STATUSES: readonly TaskStatus[] = ['PENDING', 'RUNNING', 'FINISH', 'ERROR', 'CANCELLED'];
export type { Outcome, Suggestion } from './moderation';

/** A task's statuses: PENDING and RUNNING while moderation is under way (what CancelTask may stop). */
export const taskLife = lifecycle<TaskStatus, TaskRecord, 'start' | 'finish'>({
  noun: 'task',
  statuses: TASK_STATUSES,
  busy: ['PENDING', 'RUNNING'],
  read: (rec) => rec.data.Status,
  write: (data, status) => ({ ...data, Status: status }),
  column: (status) => status,
});

/** A task's stored state (outcome, seed, times in ms), from which the API's TaskData and TaskResult views are built. */
export interface TaskRecord {
  TaskId: string;
  DataId: string;
  Name: string;
  BizType: string;
  /** AUDIO or LIVE_AUDIO (AUDIO_AIGC runs like AUDIO). */
  Type: string;
  Status: TaskStatus;
  Suggestion: string;
  InputType: 'URL' | 'COS';
  Url: string;
  Bucket: BucketInfo | null;
  Outcome: Outcome;
  /** Every segment produced so far, hits and passes. */
  Segments: AudioSegments[];
  ErrorType: string;
  ErrorDescription: string;
  CreatedMs: number;
  UpdatedMs: number;
  Finished: boolean;
  Seed: string;
  CallbackUrl: string;
}

function labels(t: TaskRecord): TaskLabel[] {
  const hits = t.Segments.filter((s) => (s.Result as { HitFlag: number }).HitFlag === 1);
  if (!hits.length) return [];
  const o = t.Outcome;
  return [{ Label: o.label, Suggestion: o.suggestion, Score: scoreOf(o.suggestion), SubLabel: SUB_LABELS[o.label] ?? '' }];
}

const hasResult = (t: TaskRecord) => t.Segments.length > 0;

function mediaInfo(t: TaskRecord): MediaInfo {
  if (!hasResult(t)) return { Codecs: '', Duration: 0, Width: 0, Height: 0, Thumbnail: '' };
  return { Codecs: 'aac', Duration: t.Type === 'LIVE_AUDIO' ? 0 : 3 * AUDIO_SEGMENT_MS, Width: 0, Height: 0, Thumbnail: '' };
}

function inputInfo(t: TaskRecord): InputInfo {
  return { Type: t.InputType, Url: t.Url, BucketInfo: t.Bucket, ImageUrlList: [], TextContent: '', Title: '', Extra: '' };
}

const label = (t: TaskRecord): string => (hasResult(t) ? (labels(t)[0]?.Label as string | undefined) ?? 'Normal' : '');

export function detailView(t: TaskRecord, showAll: boolean): DescribeTaskDetailResponse {
  const segments = showAll ? t.Segments : t.Segments.filter((s) => (s.Result as { HitFlag: number }).HitFlag === 1);
  return {
    TaskId: t.TaskId,
    DataId: t.DataId,
    BizType: t.BizType,
    Name: t.Name,
    Status: t.Status,
    Type: t.Type,
    Suggestion: t.Suggestion,
    Labels: labels(t),
    InputInfo: inputInfo(t),
    AudioText: t.Segments.map((s) => (s.Result as { Text: string }).Text).join(' ').slice(0, 1000),
    AudioSegments: segments,
    ErrorType: t.ErrorType,
    ErrorDescription: t.ErrorDescription,
    CreatedAt: new Date(t.CreatedMs).toISOString(),
    UpdatedAt: new Date(t.UpdatedMs).toISOString(),
    Label: label(t),
    MediaInfo: mediaInfo(t),
    HitSnippetInfos: [],
  };
}

export function listView(t: TaskRecord): TaskData {
  return {
    DataId: t.DataId,
    TaskId: t.TaskId,
    Status: t.Status,
    Name: t.Name,
    BizType: t.BizType,
    Type: t.Type,
    Suggestion: t.Suggestion,
    MediaInfo: mediaInfo(t),
    Labels: labels(t),
    CreatedAt: new Date(t.CreatedMs).toISOString(),
    UpdatedAt: new Date(t.UpdatedMs).toISOString(),
    InputInfo: inputInfo(t),
  };
}

export async function putTask(tx: StoreTx, t: TaskRecord): Promise<void> {
  await tx.put({ kind: KIND, id: t.TaskId, parent: null, status: t.Status, createdAt: t.CreatedMs, data: t });
}
