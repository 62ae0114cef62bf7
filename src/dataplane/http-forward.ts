/**
 * One request's exchange with its origin: the head tclocal writes (the
 * client's end-to-end headers, Host, the client's address, the rule's
 * custom headers) and the answer passed back. Requests go through the
 * origin's undici pool with `dispatch` and a handler object: no stream,
 * promise or timer of its own per request (the pool's timers watch the
 * origin); answers are written to the client as they arrive, paused while
 * the client or the proxy's bandwidth holds them back.
 */
import { validateHeaderName, validateHeaderValue, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { HttpDomain, HttpErrorPage, HttpRule } from '../services/gaap/forwarding-http';
import { pacedPipe, type Limits } from './caps';
import { originFailure } from './http-auth';
import { rawAnswer } from './http-guard';
import { measureRtt, type OriginState } from './origins';
import type { PassiveCheck } from './passive-health';

/** Headers that describe one hop's connection, never forwarded. */
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

/** Names a custom header may not set: they describe the framing, which the proxy writes itself. */
const FRAMING = new Set([...HOP_BY_HOP, 'content-length', 'expect']);

/** Requests through one proxy since the last drain, and the time origins took to answer them. */
export interface Tally {
  readonly account: string;
  readonly proxyId: string;
  http: number;
  https: number;
  /** Sum of ms from forwarding a request to its answer's head, over `answered` requests. */
  latencyMs: number;
  answered: number;
}

interface CustomHeader {
  name: string;
  value: string;
  /** The value names `$remote_addr`, replaced per request. */
  perClient: boolean;
}

/** What a rule puts into the heads it forwards, worked out once per configuration. */
export interface RuleHead {
  view: HttpRule;
  passive: PassiveCheck;
  /** The rule's custom headers, names lower-cased. */
  headers: CustomHeader[];
  /** Client headers not copied as they are: hop-by-hop ones, those the proxy sets, those a custom header replaces. */
  skip: Set<string>;
  /** The custom header's Host, which wins over ForwardHost. */
  customHost: string | undefined;
  /** A custom header replaces X-Forwarded-For / X-Forwarded-Proto. */
  setsForwardedFor: boolean;
  setsProto: boolean;
}

/**
 * A request its origin failed (refused, reset, silent past the timeout,
 * before or during its answer): one failure for the rule's passive checks,
 * and for lrtt an answer that took the whole timeout. Without it an origin
 * that never answers is never measured, and lrtt sends unmeasured origins
 * first.
 */
export function requestFailed(rule: RuleHead, origin: OriginState, timeoutMs: number): void {
  rule.passive.failed(origin, Date.now());
  measureRtt(origin, timeoutMs);
}

export function ruleHead(view: HttpRule, passive: PassiveCheck): RuleHead {
  const headers = view.headers
    .map((h) => ({ name: h.name.toLowerCase(), value: h.value, perClient: h.value.includes('$remote_addr') }))
    .filter((h) => !FRAMING.has(h.name));
  // `Expect: 100-continue` was answered by the listener already; the origin gets the body at once.
  const skip = new Set([...HOP_BY_HOP, 'expect', 'x-forwarded-for', 'x-forwarded-proto', ...headers.map((h) => h.name)]);
  if (view.forwardHost) skip.add('host');
  const sets = (name: string) => headers.some((h) => h.name === name);
  return { view, passive, headers, skip, customHost: headers.find((h) => h.name === 'host')?.value, setsForwardedFor: sets('x-forwarded-for'), setsProto: sets('x-forwarded-proto') };
}

/** The names a Connection header lists besides the usual `keep-alive`/`close` (undefined: none). */
export function connectionListed(connection: string | undefined): string[] | undefined {
  if (connection === undefined) return undefined;
  const lower = connection.toLowerCase();
  return lower === 'keep-alive' || lower === 'close' ? undefined : lower.split(',').map((s) => s.trim());
}

/**
 * What the origin receives, as name/value pairs: the client's headers
 * without hop-by-hop ones, Host as the rule says, the client's address
 * appended to X-Forwarded-For, X-Forwarded-Proto (`http` or `https`), then
 * the rule's custom headers ($remote_addr replaced).
 */
export function requestHead(given: IncomingHttpHeaders, rule: RuleHead, clientIp: string, scheme: string): string[] {
  const out: string[] = [];
  const listed = connectionListed(given.connection);
  for (const name in given) {
    const value = given[name];
    if (value === undefined || rule.skip.has(name) || listed?.includes(name)) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  if (rule.view.forwardHost && rule.customHost === undefined) out.push('host', rule.view.forwardHost);
  if (!rule.setsForwardedFor) {
    const xff = given['x-forwarded-for'];
    out.push('x-forwarded-for', xff ? `${Array.isArray(xff) ? xff.join(', ') : xff}, ${clientIp}` : clientIp);
  }
  if (!rule.setsProto) out.push('x-forwarded-proto', scheme);
  for (const h of rule.headers) out.push(h.name, h.perClient ? h.value.replaceAll('$remote_addr', clientIp) : h.value);
  return out;
}

/** The Host the origin receives (a custom header's, else ForwardHost, else the client's). */
export const upstreamHost = (given: IncomingHttpHeaders, rule: RuleHead): string =>
  rule.customHost ?? (rule.view.forwardHost || given.host || '');

/** An answer's head as name/value pairs, without hop-by-hop headers (those of HOP_BY_HOP and those its Connection header lists). */
export function responseHead(raw: readonly Buffer[]): string[] {
  const out: string[] = [];
  let listed: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') listed = connectionListed(raw[i + 1].toString('latin1'));
      continue;
    }
    out.push(name, raw[i + 1].toString('latin1'));
  }
  if (!listed) return out;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!listed.includes(out[i].toLowerCase())) kept.push(out[i], out[i + 1]);
  return kept;
}

/** Name/value pairs as a header object (lower-case names; repeated Set-Cookie kept apart, other repeats joined). */
export function headerObject(pairs: readonly string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i].toLowerCase();
    const prev = out[name];
    if (prev === undefined) out[name] = name === 'set-cookie' ? [pairs[i + 1]] : pairs[i + 1];
    else if (Array.isArray(prev)) prev.push(pairs[i + 1]);
    else out[name] = `${prev}, ${pairs[i + 1]}`;
  }
  return out;
}

export const errorPage = (domain: HttpDomain, status: number): HttpErrorPage | undefined =>
  domain.errorPages.length === 0 ? undefined : domain.errorPages.find((p) => p.errorNos.includes(status));

/** The headers of an error page's answer: those given (the origin's, or the proxy's challenge) less their framing and validators, then the page's ClearHeaders removed and SetHeaders set. */
function pageHeaders(page: HttpErrorPage, headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ...headers, 'content-type': 'text/html; charset=utf-8' };
  delete out['content-encoding'];
  delete out['content-length'];
  delete out.etag;
  for (const name of page.clearHeaders) delete out[name.toLowerCase()];
  for (const h of page.setHeaders) out[h.name.toLowerCase()] = h.value;
  out['content-length'] = Buffer.byteLength(page.body);
  return out;
}

/** An error page in place of an answer: its body and status, listed headers removed, its headers set. */
export function sendPage(res: ServerResponse, page: HttpErrorPage, status: number, headers: OutgoingHttpHeaders): void {
  res.writeHead(page.newErrorNo ?? status, pageHeaders(page, headers));
  res.end(page.body);
}

/** The same page as bytes, for a socket without a ServerResponse (an upgrade request); the connection closes after it. A header Node's server would refuse to write is left out. */
export function rawPage(page: HttpErrorPage, status: number, headers: OutgoingHttpHeaders): string {
  let lines = '';
  for (const [name, value] of Object.entries(pageHeaders(page, headers))) {
    if (name === 'content-length') continue;
    for (const v of Array.isArray(value) ? value : [value === undefined ? undefined : String(value)]) {
      if (v === undefined) continue;
      try {
        validateHeaderName(name);
        validateHeaderValue(name, v);
      } catch {
        continue;
      }
      lines += `${name}: ${v}\r\n`;
    }
  }
  return rawAnswer(page.newErrorNo ?? status, `${lines}Connection: close\r\n`, page.body);
}

/** The body and type of the proxy's own error answers. */
const proxyAnswerText = (status: number, reason: string): string => `${status} ${reason}\n`;
const PROXY_ANSWER_TYPE = 'text/plain; charset=utf-8';

/** The proxy's own error answer, rewritten by the domain's error page when one lists the status. */
export function proxyAnswer(res: ServerResponse, domain: HttpDomain | undefined, status: number, reason: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const page = domain && errorPage(domain, status);
  if (page) return sendPage(res, page, status, {});
  const body = proxyAnswerText(status, reason);
  res.writeHead(status, { 'content-type': PROXY_ANSWER_TYPE, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The same answer (no error page) as raw bytes, where there is a socket and no ServerResponse; `lines` are further header lines, each ending in CRLF. */
export function rawProxyAnswer(status: number, reason: string, lines: string): string {
  return rawAnswer(status, `Content-Type: ${PROXY_ANSWER_TYPE}\r\n${lines}`, proxyAnswerText(status, reason));
}

/** The proxy's own error answer on a socket without a ServerResponse (an upgrade request), rewritten by the domain's error page as `proxyAnswer` does; the connection closes after it. */
export function rawProxyRefusal(domain: HttpDomain | undefined, status: number, reason: string): string {
  const page = domain && errorPage(domain, status);
  return page ? rawPage(page, status, {}) : rawProxyAnswer(status, reason, 'Connection: close\r\n');
}

/** Counts a request against its origin (for `lc`) until the returned release is called; later calls do nothing. */
export function holdOrigin(origin: { active: number }): () => void {
  origin.active++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    origin.active--;
  };
}

/** Errors of a connection that closed before any answer: on a pooled connection, the origin's keep-alive close racing the reuse. */
const DROPPED = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/** What an exchange needs from the plane: a pool, and a one-connection client for the resend. */
export interface OriginRoute {
  pool: Dispatcher;
  /** The origin timeout: also how long an answer may wait for a client that does not read it. */
  timeoutMs: number;
  fresh(): Dispatcher & { close(): Promise<void> };
}

/**
 * One request forwarded to its origin, and undici's handler of its answer
 * (the handler form that hands over the raw head: no header object is
 * built for an answer that is passed on as it came).
 */
export class Exchange implements Dispatcher.DispatchHandler {
  private abort: ((err?: Error) => void) | undefined;
  private resume: (() => void) | undefined;
  /** The proxy dropped the request itself (the client left or stalled): not the origin's failure. */
  private abandoned = false;
  private answered = false;
  /** Counts the request against its origin (for `lc`) until the exchange ends. */
  private readonly held: () => void;
  private resent = false;
  /** The answer is replaced by an error page: its body is read and dropped. */
  private page = false;
  /** Resumes owed before the answer flows again (the client's drain, the bandwidth's wait). */
  private owed = 0;
  private started = 0;
  private fresh: { close(): Promise<void> } | undefined;
  private readonly options: Dispatcher.DispatchOptions;

  constructor(
    req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly domain: HttpDomain,
    private readonly rule: RuleHead,
    private readonly origin: OriginState,
    private readonly tally: Tally,
    private readonly limits: Limits | undefined,
    private readonly route: OriginRoute,
    headers: string[],
    private readonly hasBody: boolean,
  ) {
    let body: IncomingMessage | PassThrough | null = null;
    if (hasBody) {
      body = req;
      if (limits) {
        // The proxy's Bandwidth paces request bodies: they reach undici through a paced pipe.
        body = new PassThrough();
        body.on('error', () => undefined);
        pacedPipe(req, body, limits.in);
      }
    }
    // `servername` only keeps undici from keying connections by the Host: the pool's connector decides SNI.
    this.options = { path: req.url ?? '/', method: req.method ?? 'GET', headers, body, servername: 'origin' } as Dispatcher.DispatchOptions;
    this.held = holdOrigin(origin);
  }

  send(): void {
    this.started = performance.now();
    this.route.pool.dispatch(this.options, this);
  }

  /** The client's connection closed: an answer not yet complete is abandoned. */
  clientClosed(): void {
    if (!this.res.writableFinished) this.drop();
    this.release();
  }

  /** The client's body stopped arriving: the origin's request is dropped and the client told (408). */
  stalled(): void {
    this.drop();
    if (this.res.headersSent) return void this.res.destroy();
    this.res.setHeader('connection', 'close');
    proxyAnswer(this.res, this.domain, 408, 'the request body stopped arriving');
  }

  private drop(): void {
    this.abandoned = true;
    this.abort?.();
  }

  private release(): void {
    this.held();
    const fresh = this.fresh;
    this.fresh = undefined;
    if (fresh) void fresh.close().catch(() => undefined);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    if (this.abandoned) abort();
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    // Informational answers (100, 103) are the origin's business with the proxy.
    if (status < 200) return true;
    this.answered = true;
    // How long the origin took to begin its answer: the proxy's Latency, and what lrtt ranks origins by.
    const ms = performance.now() - this.started;
    this.tally.latencyMs += ms;
    this.tally.answered++;
    measureRtt(this.origin, ms);
    if (this.res.destroyed) return true;
    const head = responseHead(raw);
    const page = errorPage(this.domain, status);
    if (page) {
      this.page = true;
      sendPage(this.res, page, status, headerObject(head));
      return true;
    }
    this.resume = resume;
    this.res.writeHead(status, statusText, head);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.page) return true;
    const flushed = this.res.write(chunk);
    const wait = this.limits ? this.limits.out.take(chunk.length) : 0;
    if (flushed && wait === 0) return true;
    this.owed = (wait > 0 ? 1 : 0) + (flushed ? 0 : 1);
    const paid = () => {
      if (--this.owed === 0) this.resume?.();
    };
    if (wait > 0) setTimeout(paid, wait);
    if (!flushed) {
      // A client that stops reading would hold the origin's connection for good: it is let go after the origin timeout.
      const stuck = setTimeout(() => {
        this.drop();
        this.res.destroy();
      }, this.route.timeoutMs);
      this.res.once('drain', () => {
        clearTimeout(stuck);
        paid();
      });
    }
    return false;
  }

  onComplete(): void {
    if (!this.page) this.res.end();
    this.release();
  }

  onError(err: Error): void {
    if (this.abandoned) return this.release();
    const code = (err as NodeJS.ErrnoException).code ?? '';
    // A request without a body whose connection closed before any answer goes once more, on a connection of its own.
    if (!this.answered && !this.resent && !this.hasBody && DROPPED.has(code)) {
      this.resent = true;
      this.abort = undefined;
      const fresh = this.route.fresh();
      this.fresh = fresh;
      this.started = performance.now();
      fresh.dispatch(this.options, this);
      return;
    }
    this.release();
    requestFailed(this.rule, this.origin, this.route.timeoutMs);
    // An error page already took the answer's place. Once the answer has begun, only the connection's end can tell (proxyAnswer ends it).
    if (this.page) return;
    const failure = originFailure(err as NodeJS.ErrnoException);
    proxyAnswer(this.res, this.domain, failure.status, failure.reason);
  }
}
