import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Account, Accounts } from '../accounts';
import type { XmlApi, XmlRoute } from '../../core/service';
import type { ExtraProtocol, RawReply } from '../http';
import { RateLimiter } from '../ratelimit';
import { faultDelay, type FaultPlan } from '../observe';
import { COS_ERROR_STATUS, CosError, cosError, cosErrors } from './errors';
import { parseBucketHost, type BucketHost } from './host';
import { checkSignWindow, hasQSign, parseQSign, verifyQSignature } from './signature';
import { parseXmlBody, toXml } from './xml';

/**
 * A COS-style XML API (Cloud Infinite, COS): bucket from the Host, the
 * q-sign signature, XML bodies and `<Error>` documents. It knows no
 * product; products give it their routes.
 */

export type { XmlCall as CosCall, XmlResult as CosResult, XmlRoute as CosRoute } from '../../core/service';

/** A product's XML API (routes, host, headers) and what the gateway serves it with. */
export interface CosProtocolOptions extends XmlApi {
  name: string;
  accounts: Accounts;
  /** strict: unsigned requests and unknown SecretIds are refused. */
  strict: boolean;
  rateLimits: boolean;
  log: Logger;
  /** Injected faults (the console's); absent: none. */
  faults?: FaultPlan;
}

/** Request ids shaped like the service's (base64 of hex groups). */
export function cosRequestId(): string {
  const hex = randomBytes(12).toString('hex');
  return Buffer.from(`${hex.slice(0, 8)}_${hex.slice(8, 14)}_${hex.slice(14, 18)}_${hex.slice(18)}`).toString('base64');
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function createCosProtocol(o: CosProtocolOptions): ExtraProtocol {
  const maxBody = o.maxBody ?? 1024 * 1024;
  const limiter = new RateLimiter();

  const baseHeaders = (requestId: string): Record<string, string> => ({
    'Content-Type': 'application/xml',
    Server: o.server,
    Date: new Date().toUTCString(),
    [o.requestIdHeader]: requestId,
  });

  const errorReply = (err: CosError, requestId: string): RawReply => ({
    status: err.status,
    headers: baseHeaders(requestId),
    body: toXml('Error', { Code: err.code, Message: err.message, RequestId: requestId, TraceId: cosRequestId() }, true),
    call: { requestId, service: o.name, errorCode: err.code },
  });

  /** Who is calling: the signer, checked; or, unsigned in lenient mode, the bucket's owner. */
  function authenticate(req: IncomingMessage, path: string, query: URLSearchParams, bucket: BucketHost): Account {
    const auth = parseQSign(header(req.headers, 'authorization'), query);
    if (!auth) {
      if (o.strict) throw cosErrors.accessDenied('The request is not signed; a q-sign-algorithm=sha1 Authorization is required.');
      return o.accounts.byAppIdOf(bucket.appId) ?? o.accounts.default;
    }
    checkSignWindow(auth, Date.now() / 1000);
    const account = o.accounts.find(auth.ak);
    if (!account) throw cosErrors.invalidAccessKeyId(auth.ak);
    if (account.known) {
      verifyQSignature(auth, account.secretKey, { method: req.method ?? 'GET', path, query, headers: req.headers });
    }
    return account;
  }

  /** The bucket's APPID must be the caller's (a made-up lenient tenant may use any APPID no configured account owns). */
  function checkOwner(account: Account, bucket: BucketHost): void {
    const owner = o.accounts.byAppIdOf(bucket.appId);
    const ok = account.known ? account.appId === bucket.appId : owner === undefined || owner.uin === account.uin;
    if (!ok) throw cosErrors.accessDenied(`Access denied: the bucket \`${bucket.bucket}\` does not belong to the account of this SecretId.`);
  }

  async function handle(req: IncomingMessage, body: Buffer): Promise<RawReply> {
    const requestId = cosRequestId();
    const started = process.hrtime.bigint();
    let action: string | undefined;
    let account: Account | undefined;
    let fault: string | undefined;
    try {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const rawPath = q < 0 ? url : url.slice(0, q);
      const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
      let path: string;
      try {
        path = decodeURIComponent(rawPath);
      } catch {
        throw cosErrors.invalidUri(`The request path \`${rawPath}\` is not validly percent-encoded.`);
      }
      const bucket = parseBucketHost(header(req.headers, 'host'));
      if (!bucket || bucket.service !== o.hostService) {
        throw cosErrors.invalidHost(
          `The Host \`${header(req.headers, 'host') ?? ''}\` is not a bucket address; use <BucketName-APPID>.${o.hostService}.<Region>.myqcloud.com.`,
        );
      }
      account = authenticate(req, path, query, bucket);
      checkOwner(account, bucket);
      const method = (req.method ?? 'GET').toUpperCase();
      let params: RegExpExecArray | null = null;
      let route: XmlRoute | undefined;
      let pathKnown = false;
      for (const r of o.routes) {
        const m = r.path.exec(path);
        if (!m) continue;
        pathKnown = true;
        if (r.method === method) {
          route = r;
          params = m;
          break;
        }
      }
      if (!route) {
        if (pathKnown) throw cosErrors.methodNotAllowed(method, path);
        throw cosErrors.invalidUri(`The request path \`${path}\` is not an API of this service.`);
      }
      action = route.action;
      if (route.rateLimit !== undefined && o.rateLimits && !limiter.take(`${account.uin} ${o.name} ${route.action}`, route.rateLimit, Date.now())) {
        throw cosErrors.slowDown(route.rateLimit);
      }
      const decision = o.faults?.decide({ protocol: 'cos', service: o.name, action, account: account.uin });
      if (decision) {
        fault = decision.rule;
        await faultDelay(decision);
        if (decision.error) throw cosError(decision.error.code, decision.error.message);
      }
      const result = await route.handle({
        account, bucket, action: route.action, params: params!.slice(1), query, headers: req.headers, body, xmlBody: () => parseXmlBody(body), requestId, now: Date.now(),
      });
      o.log.info({ requestId, service: o.name, action, account: account.uin, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
      return {
        status: result.status ?? 200,
        headers: baseHeaders(requestId),
        body: toXml(result.root, { ...result.content, RequestId: requestId }),
        call: { requestId, service: o.name, action, account: account.uin, fault },
      };
    } catch (err) {
      let failure: CosError;
      if (err instanceof CosError) failure = err;
      else {
        o.log.error({ err, requestId, service: o.name, action }, 'handler failed');
        failure = cosErrors.internal();
      }
      o.log.info({ requestId, service: o.name, action, account: account?.uin, code: failure.code, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
      const reply = errorReply(failure, requestId);
      reply.call = { ...reply.call!, action, account: account?.uin, fault };
      return reply;
    }
  }

  return {
    name: o.name,
    maxBody,
    catalogue: { actions: o.routes.map((r) => r.action), errorCodes: Object.keys(COS_ERROR_STATUS) },
    matches(req) {
      const bucket = parseBucketHost(header(req.headers, 'host'));
      if (bucket) return bucket.service === o.hostService;
      const url = req.url ?? '';
      const q = url.indexOf('?');
      return hasQSign(header(req.headers, 'authorization'), q < 0 ? '' : url.slice(q + 1));
    },
    handle,
    tooLarge(_req) {
      return errorReply(cosErrors.entityTooLarge(maxBody), cosRequestId());
    },
  };
}
