import type { ExtraProtocol } from '../../gateway/http';
import { createCosProtocol } from '../../gateway/cos/protocol';
import type { ProtocolDeps } from '../index';
import type { TransitionHandler } from '../types';
import { CallbackSender } from './callbacks';
import { LiveAuditing, START_AUDITING, startAuditing } from './jobs';

/** Documented request rate of cancel_auditing, per account. */
export const CANCEL_RATE_LIMIT = 20;

/** Cloud Infinite (COS-style XML API): live-stream moderation jobs. */
export function ciProtocol(deps: ProtocolDeps): ExtraProtocol[] {
  const jobs = new LiveAuditing(deps, new CallbackSender(deps.log));
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
      routes: [
        { method: 'POST', path: /^\/video\/auditing\/?$/, action: 'PostLiveAuditing', handle: (c) => jobs.submit(c) },
        { method: 'GET', path: /^\/video\/auditing\/([^/]+)\/?$/, action: 'GetLiveAuditing', handle: (c) => jobs.query(c) },
        {
          method: 'POST', path: /^\/video\/cancel_auditing\/([^/]+)\/?$/, action: 'CancelLiveAuditing',
          rateLimit: CANCEL_RATE_LIMIT, handle: (c) => jobs.cancel(c),
        },
      ],
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
