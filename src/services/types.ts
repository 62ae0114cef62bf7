import type { ServiceSettings } from '../config';
import type { Account } from '../gateway/accounts';
import type { ServiceSpec } from '../spec/types';
import type { Store, StoreTx } from '../store/types';

export type Language = 'zh-CN' | 'en-US';

/** What a handler knows of the call it serves; no HTTP in sight. */
export interface ActionContext {
  readonly tx: StoreTx;
  readonly account: Account;
  readonly requestId: string;
  readonly action: string;
  /** Region named by the caller, if any. */
  readonly region?: string;
  readonly language: Language;
  /** Milliseconds since the epoch, fixed for the whole request. */
  readonly now: number;
  /** Configured behaviour of the services (review times, ...). */
  readonly settings: ServiceSettings;
  /**
   * Schedule a transition of this service to run after the configured
   * transition time (or `delayMs`), through the persistent scheduler.
   */
  later(type: string, payload: Record<string, unknown>, delayMs?: number): Promise<void>;
}

export type ActionHandler<I = any, O = any> = (input: I, ctx: ActionContext) => Promise<O> | O;

/** Applies one scheduled state change, inside its own transaction. */
export type TransitionHandler = (payload: any, tx: StoreTx, now: number) => Promise<void> | void;

/** One product behind the API 3.0 gateway. */
export interface ServiceModule {
  spec: ServiceSpec;
  handlers: Record<string, ActionHandler>;
  transitions?: Record<string, TransitionHandler>;
  /** One-time preparation of the store (indexes). */
  prepare?(store: Store): void;
}
