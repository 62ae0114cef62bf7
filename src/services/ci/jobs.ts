import { randomBytes } from 'node:crypto';
import { CosError } from '../../core/errors';
import type { XmlCall as CosCall, TransitionScheduler, XmlObject, XmlResult as CosResult } from '../../core/service';
import type { ResourceRecord, Store, StoreTx } from '../../store/types';
import type { CallbackSender } from './callbacks';
import { lifecycle } from '../kit/lifecycle';
import { parseSubmit } from './submit';

export const JOB_KIND = 'ci.job';
export const SERVICE = 'ci';
/** Scheduled transition: a submitted job starts being moderated. */
export const START_AUDITING = 'live-audit-start';

/** Job states. `Cancelled` is tclocal's choice for a job stopped by cancel_auditing (docs/ci.md). */
export const State = {
  Submitted: 'Submitted',
  Auditing: 'Auditing',
  Success: 'Success',
  Failed: 'Failed',
  Cancelled: 'Cancelled',
} as const;

/** A stored job; field names as the XML answers spell them. */
export interface LiveJob {
  JobId: string;
  DataId?: string;
  State: string;
  CreationTime: string;
  Type: 'live_video';
  Url: string;
  UserInfo?: Record<string, string>;
  BizType: string;
  Callback?: string;
  CallbackType: 1 | 2;
  Bucket: string;
  Region: string;
  /** When the job leaves Submitted (ms). */
  AuditingAt: number;
  CancelledAt?: number;
}

/** A job's states; it is in flight (and may be cancelled) while Submitted or Auditing. */
export const jobLife = lifecycle<string, LiveJob>({
  noun: 'live moderation job',
  statuses: Object.values(State),
  busy: [State.Submitted, State.Auditing],
  read: (rec) => rec.data.State,
  write: (data, status) => ({ ...data, State: status }),
});

/** `av` + 32 lowercase hex digits, as the service's job ids look. */
export function newJobId(): string {
  return 'av' + randomBytes(16).toString('hex');
}

/** ISO-8601 in UTC+8 with the offset written `+0800`, as the service writes times. */
export function creationTime(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '+0800');
}

/** Applies START_AUDITING to one job; idempotent, and a no-op once the job left Submitted. */
export async function startAuditing(payload: { jobId: string }, tx: StoreTx): Promise<void> {
  const rec = await tx.get<LiveJob>(JOB_KIND, payload.jobId);
  if (!rec || rec.data.State !== State.Submitted) return;
  await jobLife.move(tx, rec, State.Auditing);
}

const notFound = (jobId: string) => new CosError(404, 'ResourceNotFound', `The live moderation job \`${jobId}\` does not exist in this bucket.`);

function cleanResults(): XmlObject {
  return {
    SnapshotCount: 0,
    Result: 0,
    Label: 'Normal',
    PornInfo: { HitFlag: 0, Count: 0 },
    AdsInfo: { HitFlag: 0, Count: 0 },
  };
}

/** Submit, query and cancel of live-stream moderation jobs. */
export class LiveAuditing {
  constructor(
    private readonly deps: { store: Store; transitions: TransitionScheduler },
    private readonly callbacks: CallbackSender,
  ) {}

  async submit(call: CosCall): Promise<CosResult> {
    const req = parseSubmit(call.xmlBody());
    const { transitions } = this.deps;
    const delay = transitions.delayMs;
    const job: LiveJob = {
      JobId: newJobId(),
      DataId: req.dataId,
      State: State.Submitted,
      CreationTime: creationTime(call.now),
      Type: 'live_video',
      Url: req.url,
      UserInfo: req.userInfo,
      BizType: req.bizType,
      Callback: req.callback,
      CallbackType: req.callbackType,
      Bucket: call.bucket.bucket,
      Region: call.bucket.region,
      AuditingAt: call.now + delay,
    };
    // Zero transition time: moderation starts as part of the request itself (the engine applies it inline).
    await transitions.run(call.account.uin, SERVICE, call.now, async (tx, later) => {
      await tx.put({ kind: JOB_KIND, id: job.JobId, parent: job.Bucket, status: job.State, createdAt: call.now, data: job });
      await later(START_AUDITING, { jobId: job.JobId }, delay);
    });
    return {
      root: 'Response',
      content: { JobsDetail: { DataId: job.DataId ?? '', JobId: job.JobId, State: job.State, CreationTime: job.CreationTime } },
    };
  }

  async query(call: CosCall): Promise<CosResult> {
    const [jobId] = call.params;
    const job = (await this.deps.store.transaction(call.account.uin, async (tx) => this.load(tx, call, jobId))).data;
    const detail: XmlObject = {
      DataId: job.DataId ?? '',
      JobId: job.JobId,
      State: job.State,
      CreationTime: job.CreationTime,
      Type: job.Type,
      Url: job.Url,
    };
    if (job.State !== State.Submitted) Object.assign(detail, cleanResults());
    if (job.UserInfo) detail.UserInfo = job.UserInfo;
    return { root: 'Response', content: { JobsDetail: detail } };
  }

  async cancel(call: CosCall): Promise<CosResult> {
    const [jobId] = call.params;
    const job = await this.deps.store.transaction(call.account.uin, async (tx) => {
      const rec = await this.load(tx, call, jobId);
      const job = rec.data;
      if (!jobLife.isBusy(rec)) {
        throw new CosError(
          400,
          'InvalidArgument',
          `The live moderation job \`${jobId}\` is ${job.State}; only a Submitted or Auditing job can be cancelled.`,
        );
      }
      return (await jobLife.move(tx, rec, State.Cancelled, { CancelledAt: call.now })).data;
    });
    // After commit, in the background: the moderation of the stream has ended.
    if (job.Callback) this.callbacks.send(endOfJobCallback(job));
    return {
      root: 'Response',
      content: { JobsDetail: { DataId: job.DataId ?? '', JobId: job.JobId, CreationTime: job.CreationTime, State: job.State } },
    };
  }

  /**
   * The job, in the caller's bucket; with automatic transitions a job whose
   * start is due is moved to Auditing on the way (so it never waits on the
   * scheduler's timer).
   */
  private async load(tx: StoreTx, call: CosCall, jobId: string): Promise<ResourceRecord<LiveJob>> {
    const rec = await tx.get<LiveJob>(JOB_KIND, jobId);
    if (!rec || rec.data.Bucket !== call.bucket.bucket || rec.data.Region !== call.bucket.region) throw notFound(jobId);
    if (rec.data.State === State.Submitted && this.deps.transitions.automatic && call.now >= rec.data.AuditingAt) {
      return jobLife.move(tx, rec, State.Auditing);
    }
    return rec;
  }
}

/** The "Simple" callback sent when a job's moderation ends. */
export function endOfJobCallback(job: LiveJob) {
  const data: Record<string, unknown> = {
    trace_id: job.JobId,
    url: job.Url,
    event: 'ReviewVideo',
    result: 0,
    forbidden_status: 0,
    porn_info: { hit_flag: 0, label: '', count: 0 },
    ads_info: { hit_flag: 0, label: '', count: 0 },
  };
  if (job.DataId) data.data_id = job.DataId;
  return {
    url: job.Callback!,
    jobId: job.JobId,
    headers: { 'X-Ci-Content-Version': 'Simple' },
    body: { code: 0, message: '', data },
  };
}
