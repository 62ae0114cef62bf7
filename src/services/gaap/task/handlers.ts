import type { DescribeTaskStatusRequest, GaapActions } from '../../../spec/gaap.types';
import type { HandlerPart } from '../../types';
import { taskStatus } from './model';

export const handlers = {
  DescribeTaskStatus: async (input: DescribeTaskStatusRequest, ctx) => {
    const status = input.TaskId ? await taskStatus(ctx.tx, input.TaskId) : undefined;
    // An unknown id (a synchronous call's RequestId) has nothing pending.
    return { TaskId: input.TaskId ?? '', Status: status ?? 'SUCCESS' };
  },
} satisfies HandlerPart<GaapActions>;
