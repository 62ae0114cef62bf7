import { ApiError } from '../../core/errors';
import type { ResourceRecord, StoreTx } from '../../store/types';
import type { ActionContext } from '../types';

/**
 * The statuses of one resource kind and the moves between them. A record
 * keeps its status twice: in its data (the field the Describe actions
 * return) and in the store's status column (what lists filter on); `move`
 * writes both, so the two never disagree.
 */
export interface LifecycleSpec<S extends string | number, D, T extends string> {
  /** What the resource is called in messages ("proxy", "listener"). */
  noun: string;
  /** Every status the resource can be in. */
  statuses: readonly S[];
  /** Statuses during which an operation on the resource is still in flight. */
  busy: readonly S[];
  /** The status of a record (read from its data, or its column for older records). */
  read(rec: ResourceRecord<D>): S;
  /** The data with its status field set. */
  write(data: D, status: S): D;
  /** The store's status column for a status; `String(status)` when absent. */
  column?(status: S): string | null;
  /**
   * Schedules a settle transition; `ctx.later` when absent. GAAP passes its
   * task starter, so DescribeTaskStatus follows the change.
   */
  schedule?(ctx: ActionContext, transition: T, payload: Record<string, unknown>): Promise<void>;
}

export interface Lifecycle<S extends string | number, D, T extends string> {
  readonly statuses: readonly S[];
  readonly busy: ReadonlySet<S>;
  status(rec: ResourceRecord<D>): S;
  isBusy(rec: ResourceRecord<D>): boolean;
  /** Refuses a write while an operation is in flight; `code` is the one the action documents. */
  assertIdle(rec: ResourceRecord<D>, code: string, message?: string): void;
  /** Stores the record with a new status (and `patch` merged into its data); returns what was stored. */
  move(tx: StoreTx, rec: ResourceRecord<D>, status: S, patch?: Partial<D>): Promise<ResourceRecord<D>>;
  /** `move`, then schedules the transition that settles the record. */
  begin(ctx: ActionContext, rec: ResourceRecord<D>, status: S, transition: T, payload: Record<string, unknown>, patch?: Partial<D>): Promise<ResourceRecord<D>>;
}

export function lifecycle<S extends string | number, D, T extends string = string>(spec: LifecycleSpec<S, D, T>): Lifecycle<S, D, T> {
  const busy: ReadonlySet<S> = new Set(spec.busy);
  const column = spec.column ?? ((s: S) => String(s));
  const schedule = spec.schedule ?? ((ctx: ActionContext, t: T, p: Record<string, unknown>) => ctx.later(t, p));
  const self: Lifecycle<S, D, T> = {
    statuses: spec.statuses,
    busy,
    status: (rec) => spec.read(rec),
    isBusy: (rec) => busy.has(spec.read(rec)),
    assertIdle(rec, code, message) {
      const s = spec.read(rec);
      if (busy.has(s)) {
        throw new ApiError(code, message ?? `The ${spec.noun} \`${rec.id}\` has an operation in progress (status ${s}); retry when it completes.`);
      }
    },
    async move(tx, rec, status, patch) {
      const next = { ...rec, status: column(status), data: spec.write({ ...rec.data, ...patch }, status) };
      await tx.put(next);
      return next;
    },
    async begin(ctx, rec, status, transition, payload, patch) {
      const next = await self.move(ctx.tx, rec, status, patch);
      await schedule(ctx, transition, payload);
      return next;
    },
  };
  return self;
}
