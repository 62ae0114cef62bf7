import type { ExtraProtocol } from '../../gateway/http';
import { createCosProtocol, type CosCall, type CosResult } from '../../gateway/cos/protocol';
import type { ProtocolDeps } from '../index';
import type { TransitionHandler } from '../types';
import { CallbackSender } from './callbacks';
import { LiveAuditing, START_AUDITING, startAuditing } from './jobs';

/** Documented request rate of cancel_auditing, per account. */
export const CANCEL_RATE_LIMIT = 20;

/** The operations of the live-moderation API, with the paths that select them. */
const ROUTES: Array<{ method: string; path: RegExp; pattern: string; action: string; rateLimit?: number; run: (jobs: LiveAuditing, c: CosCall) => Promise<CosResult> }> = [
  { method: 'POST', path: /^\/video\/auditing\/?$/, pattern: '/video/auditing', action: 'PostLiveAuditing', run: (jobs, c) => jobs.submit(c) },
  { method: 'GET', path: /^\/video\/auditing\/([^/]+)\/?$/, pattern: '/video/auditing/<jobId>', action: 'GetLiveAuditing', run: (jobs, c) => jobs.query(c) },
  {
    method: 'POST', path: /^\/video\/cancel_auditing\/([^/]+)\/?$/, pattern: '/video/cancel_auditing/<jobId>', action: 'CancelLiveAuditing',
    rateLimit: CANCEL_RATE_LIMIT, run: (jobs, c) => jobs.cancel(c),
  },
];

/** For the coverage report. */
export function ciOperations(): { service: string; operations: string[] } {
  return { service: 'ci (COS-style XML)', operations: ROUTES.map((r) => `${r.action}: ${r.method} ${r.pattern}`) };
}

/** Cloud Infinite (COS-style XML API): live-stream moderation jobs. */
export function ciProtocol(deps: ProtocolDeps): ExtraProtocol[] {
  const jobs = new LiveAuditing(deps, new CallbackSender(deps.log, deps.outbound));
  return [
    createCosProtocol({
      name: 'ci',
      hostService: 'ci',
      requestIdHeader: 'x-ci-request-id',
      server: 'tencent-ci',
      accounts: deps.accounts,
      strict: deps.config.auth === 'strict',
      rateLimits: deps.config.rateLimits,
      log: deps.log,
      maxBody: 256 * 1024,
      faults: deps.faults,
      routes: ROUTES.map(({ method, path, action, rateLimit, run }) => ({ method, path, action, rateLimit, handle: (c: CosCall) => run(jobs, c) })),
    }),
  ];
}

/**
 * Scheduled transitions of Cloud Infinite, keyed by type; the engine knows
 * them as `ci:<type>`.
 */
export function ciTransitions(): Record<string, TransitionHandler> {
  return { [START_AUDITING]: (payload: { jobId: string }, tx) => startAuditing(payload, tx) };
}
