import type { XmlCall as CosCall, XmlResult as CosResult } from '../../core/service';
import type { ServiceDefinition, TransitionHandler } from '../types';
import { ciBrowse } from './browse';
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

/** Cloud Infinite (COS-style XML API): live-stream moderation jobs. The gateway speaks the XML wire format. */
export const ciService: ServiceDefinition = {
  name: 'ci',
  create: ({ store, transitions, log, outbound }) => {
    let jobs: LiveAuditing | undefined;
    // Built on first use: a module listed only for its coverage is never run.
    const liveAuditing = () => (jobs ??= new LiveAuditing({ store: store!, transitions: transitions! }, new CallbackSender(log!, outbound!)));
    return {
      name: 'ci',
      xml: {
        hostService: 'ci',
        requestIdHeader: 'x-ci-request-id',
        server: 'tencent-ci',
        maxBody: 256 * 1024,
        routes: ROUTES.map(({ method, path, pattern, action, rateLimit, run }) => ({
          method, path, pattern, action, rateLimit, handle: (c: CosCall) => run(liveAuditing(), c),
        })),
      },
      transitions: ciTransitions(),
      browse: ciBrowse,
    };
  },
};

/**
 * Scheduled transitions of Cloud Infinite, keyed by type; the engine knows
 * them as `ci:<type>`.
 */
export function ciTransitions(): Record<string, TransitionHandler> {
  return { [START_AUDITING]: (payload: { jobId: string }, tx) => startAuditing(payload, tx) };
}
