import type { ActionContext } from '../types';

/** A handler that answers without reading its request; typed by the answer it gives. */
export type NoopHandler<R> = (input: unknown, ctx: ActionContext) => Promise<R>;

const NOOPS = new WeakSet<object>();

/**
 * An action tclocal accepts and answers but that changes nothing (there is
 * nothing local behind it); the coverage report says so.
 */
export function noop<R extends object>(answer: () => R): NoopHandler<R> {
  const h: NoopHandler<R> = async () => answer();
  NOOPS.add(h);
  return h;
}

export const isNoop = (h: unknown): boolean => typeof h === 'function' && NOOPS.has(h);
