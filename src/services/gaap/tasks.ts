import type { DescribeTaskStatusRequest } from '../../spec/gaap.types';
import type { StoreTx } from '../../store/types';
import type { ActionContext, ActionHandler, TransitionHandler } from '../types';
import { KIND } from './model';

/**
 * Asynchronous GAAP calls: the RequestId of the call is its task id
 * (DescribeTaskStatus), RUNNING until the scheduled change is applied, then
 * SUCCESS — the resource is already in its final status when the task says so.
 */
export async function startTask(ctx: ActionContext, type: string, payload: Record<string, unknown>, taskId = ctx.requestId): Promise<void> {
  await ctx.tx.put({ kind: KIND.task, id: taskId, parent: null, status: 'RUNNING', createdAt: ctx.now, data: { TaskId: taskId } });
  await ctx.later('task', { type, payload, taskId });
}

/** Wraps the service's transitions: runs the named one, then marks its task done. */
export function taskTransition(all: Record<string, TransitionHandler>): TransitionHandler {
  return async (p: { type: string; payload: Record<string, unknown>; taskId: string }, tx: StoreTx, now: number) => {
    let status = 'SUCCESS';
    try {
      await all[p.type](p.payload, tx, now);
    } catch {
      status = 'FAIL';
    }
    const task = await tx.get(KIND.task, p.taskId);
    if (task) await tx.put({ ...task, status });
  };
}

export const handlers: Record<string, ActionHandler> = {
  DescribeTaskStatus: async (input: DescribeTaskStatusRequest, ctx) => {
    const task = input.TaskId ? await ctx.tx.get(KIND.task, input.TaskId) : undefined;
    // An unknown id (a synchronous call's RequestId) has nothing pending.
    return { TaskId: input.TaskId ?? '', Status: task?.status ?? 'SUCCESS' };
  },
};
