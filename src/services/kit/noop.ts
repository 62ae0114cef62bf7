import type { ActionHandler } from '../types';

const NOOPS = new WeakSet<ActionHandler>();

/**
 * An action tclocal accepts and answers but that changes nothing (there is
 * nothing local behind it); the coverage report says so.
 */
export function noop(answer: () => Record<string, unknown>): ActionHandler {
  const h: ActionHandler = async () => answer();
  NOOPS.add(h);
  return h;
}

export const isNoop = (h: unknown): boolean => typeof h === 'function' && NOOPS.has(h as ActionHandler);
