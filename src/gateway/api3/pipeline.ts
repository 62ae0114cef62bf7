import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { ApiError } from '../../core/errors';
import { materialize } from '../../core/raw-json';
import { requestId as newRequestId } from '../../core/ids';
import type { TransitionEngine } from '../../core/transitions';
import type { ActionContext, ActionHandler, Api3Module, Language, ServiceSettings } from '../../core/service';
import { responseProblems } from '../../spec/response-check';
import type { RequestValidator } from '../../spec/validator';
import type { Store } from '../../store/types';
import type { Account, Accounts } from '../accounts';
import { faultDelay, type CallSummary, type FaultPlan } from '../observe';
import type { RateLimiter } from '../ratelimit';
import { errorBody, successBody, type ResponseBody } from './envelope';
import { businessParams, readApi3Request, type Api3Request } from './request';
import type { Router } from './router';
import { verifyTc3, verifyV1 } from './signature';

const MAX_SKEW_SECONDS = 300;

export interface Api3Settings {
  auth: 'lenient' | 'strict';
  /**
   * Development check: a handler answering a code that neither its action's
   * documented list nor the common list has becomes an InternalError, so a
   * test that meets it fails. The test harness turns it on.
   */
  strictErrorCodes?: boolean;
  /** Development check: a success whose body does not match the action's output model becomes an InternalError. */
  strictResponses?: boolean;
  rateLimits: boolean;
}

export interface Api3Deps {
  /** Passed through to handlers untouched; the gateway does not read it. */
  serviceSettings?: ServiceSettings;
  /** Common error codes, valid for every action. */
  commonErrors?: ReadonlySet<string>;
  accounts: Accounts;
  router: Router;
  validator: RequestValidator;
  limiter: RateLimiter;
  services: Map<string, Api3Module>;
  store: Store;
  transitions: TransitionEngine;
  log: Logger;
  settings: Api3Settings;
  /** Injected faults (the console's); absent: none. */
  faults?: FaultPlan;
}

export interface Api3Outcome extends CallSummary {
  body: ResponseBody;
  errorMessage?: string;
  /** The business parameters as read (for debug logs). */
  params?: Record<string, unknown>;
}

/**
 * The API 3.0 handler chain: read → authenticate → route → rate-limit →
 * validate → run the service's handler in one transaction → envelope. Every
 * outcome, a handler's bug included, is a well-formed envelope.
 */
export class Api3Gateway {
  constructor(private readonly d: Api3Deps) {}

  async handle(method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Api3Outcome> {
    const requestId = newRequestId();
    const outcome: Api3Outcome = { requestId, body: '' };
    try {
      const req = readApi3Request(method, url, headers, body);
      const account = this.authenticate(req);
      outcome.account = account.uin;
      if (!req.action) throw new ApiError('MissingParameter', 'The request is missing a required parameter `Action`.');
      if (!req.version) throw new ApiError('MissingParameter', 'The request is missing a required parameter `Version`.');
      outcome.action = req.action;
      const scope = req.signing.kind === 'tc3' ? req.signing.auth.service : undefined;
      const { spec, action } = this.d.router.route(req.host, scope, req.version, req.action);
      outcome.service = spec.service;
      const actionSpec = spec.actions[action];
      const fault = this.d.faults?.decide({ protocol: 'api3', service: spec.service, action, account: account.uin });
      if (fault) {
        outcome.fault = fault.rule;
        await faultDelay(fault);
        if (fault.error) throw new ApiError(fault.error.code, fault.error.message);
      }
      if (this.d.settings.rateLimits && !this.d.limiter.take(`${account.uin} ${spec.service} ${action}`, actionSpec.rateLimit, Date.now())) {
        throw new ApiError(
          'RequestLimitExceeded',
          `The request rate of ${action} exceeds its limit of ${actionSpec.rateLimit} per second. For local testing, turn rate limits off with --rate-limits off (TCLOCAL_RATE_LIMITS=off).`,
        );
      }
      const params = businessParams(req);
      outcome.params = params;
      this.d.validator.validate(spec.service, action, params);
      const service = this.d.services.get(spec.service)!;
      const handler = service.handlers[action];
      if (!handler) throw new ApiError('UnsupportedOperation', `The action ${action} is not implemented by tclocal yet.`);
      try {
        const result = (await this.run(service, handler, params, account, req, requestId, action)) ?? {};
        if (this.d.settings.strictResponses) {
          const problems = responseProblems(spec, action, materialize(result as Record<string, unknown>));
          if (problems.length) throw new Error(`${spec.service}.${action} answered outside its model: ${problems.slice(0, 5).join('; ')}`);
        }
        outcome.body = successBody(result, requestId);
      } catch (err) {
        if (err instanceof ApiError && this.d.settings.strictErrorCodes && !actionSpec.errors.includes(err.code) && !this.d.commonErrors?.has(err.code)) {
          throw new Error(`${spec.service}.${action} answered ${err.code}, which its documentation does not list (${err.message})`);
        }
        throw err;
      }
    } catch (err) {
      let code = 'InternalError';
      let message = 'An internal error occurred; see the tclocal log for this RequestId.';
      if (err instanceof ApiError) {
        code = err.code;
        message = err.message;
      } else {
        this.d.log.error({ err, requestId, service: outcome.service, action: outcome.action }, 'handler failed');
        if (this.d.settings.strictErrorCodes) message = `${message} ${(err as Error).message}`;
      }
      outcome.errorCode = code;
      outcome.errorMessage = message;
      outcome.body = errorBody(code, message, requestId);
    }
    return outcome;
  }

  private authenticate(req: Api3Request): Account {
    const { signing } = req;
    const strict = this.d.settings.auth === 'strict';
    if (signing.kind === 'none') {
      if (strict) throw new ApiError('AuthFailure.InvalidAuthorization', 'The request is not signed; strict mode requires a signature.');
      return this.d.accounts.default;
    }
    const ts = Number(signing.timestamp);
    if (!/^\d+$/.test(signing.timestamp) || Math.abs(Date.now() / 1000 - ts) > MAX_SKEW_SECONDS) {
      throw new ApiError('AuthFailure.SignatureExpire', 'The signature has expired: the timestamp differs from the server time by more than 5 minutes.');
    }
    const secretId = signing.kind === 'tc3' ? signing.auth.secretId : signing.secretId;
    const account = this.d.accounts.find(secretId);
    if (!account) throw new ApiError('AuthFailure.SecretIdNotFound', `The SecretId \`${secretId}\` does not exist.`);
    if (!account.known) return account;
    let ok: boolean;
    if (signing.kind === 'tc3') {
      const date = new Date(ts * 1000).toISOString().slice(0, 10);
      ok = signing.auth.date === date && verifyTc3(signing.auth, account.secretKey, {
        method: req.method, path: req.path, query: req.query, headers: req.headers, body: req.body, timestamp: signing.timestamp,
      });
    } else {
      ok = verifyV1(account.secretKey, { method: req.method, path: req.path, host: req.host, params: req.rawParams! });
    }
    if (!ok) throw new ApiError('AuthFailure.SignatureFailure', 'The provided credentials could not be validated. Please check your signature is correct.');
    return account;
  }

  private run(
    service: Api3Module, handler: ActionHandler, params: Record<string, unknown>,
    account: Account, req: Api3Request, requestId: string, action: string,
  ): Promise<object> {
    const now = Date.now();
    // Zero transition time: the engine applies the change as part of the request itself.
    return this.d.transitions.run(account.uin, service.spec.service, now, (tx, later) => {
      const ctx: ActionContext = {
        tx, account, requestId, action, now, later,
        // Handlers of a gateway built without settings (tests) read none.
        settings: this.d.serviceSettings ?? ({} as ServiceSettings),
        region: req.region,
        language: (req.language === 'en-US' ? 'en-US' : 'zh-CN') as Language,
      };
      return handler(params, ctx);
    });
  }
}
