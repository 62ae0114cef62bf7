import type { StoreTx } from '../../../store/types';
import type { ActionContext, TransitionHandler } from '../../types';
import { KIND } from '../kinds';

/**
 * Asynchronous GAAP calls: the RequestId of the call is its task id
 * (DescribeTaskStatus), RUNNING until the scheduled change is applied, then
 * SUCCESS — the resource is already in its final status when the task says so.
 */
export async function startTask(ctx: ActionContext, type: string, payload: Record<string, unknown>, taskId = ctx.requestId): Promise<void> {
  await ctx.tx.kvPut(KIND.task, taskId, { status: 'RUNNING' } satisfies TaskState);
  await ctx.later('task', { type, payload, taskId });
}

/**
 * Tasks are small keyed values: they are only ever read by id, and a keyed
 * value costs a fraction of an indexed resource record on every asynchronous
 * call. Earlier versions kept them as resource records; those are still read.
 */
interface TaskState {
  status: 'RUNNING' | 'SUCCESS' | 'FAIL';
}

export async function taskStatus(tx: StoreTx, taskId: string): Promise<string | undefined> {
  const task = await tx.kvGet<TaskState>(KIND.task, taskId);
  return task?.status ?? (await tx.get(KIND.task, taskId))?.status ?? undefined;
}

/** Wraps the service's transitions: runs the named one, then marks its task done. */
export function taskTransition(all: Record<string, TransitionHandler>): TransitionHandler {
  return async (p: { type: string; payload: Record<string, unknown>; taskId: string }, tx: StoreTx, now: number) => {
    let status: TaskState['status'] = 'SUCCESS';
    try {
      await all[p.type](p.payload, tx, now);
    } catch {
      status = 'FAIL';
    }
    if (await taskStatus(tx, p.taskId)) await tx.kvPut(KIND.task, p.taskId, { status } satisfies TaskState);
  };
}
