import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { requestId as newRequestId } from '../core/ids';
import { maskMessage, maskParams } from '../core/log-format';
import { API_JSON_LIMITS, JsonShapeGuard } from '../core/json-shape';
import { ADMIN_PREFIX, adminAccessDenial, type AdminAccessPolicy } from './admin-access';
import type { Api3Gateway, Api3Outcome } from './api3/pipeline';
import { errorBody } from './api3/envelope';
import { LIMITS } from './api3/request';
import { homePage, wantsHomePage } from './home';
import type { CallRecorder, CallSummary } from './observe';

import type { RawReply } from './reply';

export type { RawReply } from './reply';

/** Another wire protocol sharing the port (COS-style XML APIs). */
export interface ExtraProtocol {
  name: string;
  /** Decides from the request head alone, before the body is read. */
  matches(req: IncomingMessage): boolean;
  /** Largest body accepted. */
  maxBody: number;
  handle(req: IncomingMessage, body: Buffer): Promise<RawReply>;
  /** Reply for a body over maxBody. */
  tooLarge(req: IncomingMessage): RawReply;
  /** Its actions and the error codes they may answer (for fault rules). */
  catalogue: { actions: readonly string[]; errorCodes: readonly string[] };
}

export type AdminHandler = (req: IncomingMessage, body: Buffer) => Promise<RawReply>;

export interface HttpDeps {
  api3: Api3Gateway;
  protocols: ExtraProtocol[];
  admin: AdminHandler;
  /** Who may use the admin endpoints; read per request (the port is known once listening). */
  adminAccess(): AdminAccessPolicy;
  log: Logger;
  /** Sees every API call after it is answered (the request log); admin requests are not API calls. */
  recorder?: CallRecorder;
  /** Connections served at once; more are closed on arrival. */
  maxConnections: number;
  timeouts?: Partial<HttpTimeouts>;
  /** Shown on the page a browser gets at `/`. */
  version?: string;
}

/** How long a client may take; slow or silent clients cannot hold the server. */
export interface HttpTimeouts {
  /** From the connection (or the previous response) to the end of the request head. */
  headersMs: number;
  /** From the connection (or the previous response) to the end of the request body. */
  requestMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: number;
}

export const HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, requestMs: 60_000, keepAliveMs: 65_000 };

/** The answer to a client that did not send its request in time: 408 with an envelope, then close. */
export function requestTimeoutReply(timeouts: HttpTimeouts): string {
  const body = errorBody('RequestTimeout', `The request was not received in time: its head within ${timeouts.headersMs} ms, all of it within ${timeouts.requestMs} ms.`, newRequestId());
  return `HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** Room for a GET of the documented 32 KB plus headers, so it is answered, not cut off. */
const MAX_HEADER_BYTES = 64 * 1024;
/** Admin bodies carry whole state exports (tens of MB for a 10,000-proxy account). */
const MAX_ADMIN_BODY_BYTES = 1024 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

type BodyRead =
  | { kind: 'body'; body: Buffer }
  | { kind: 'tooLarge' }
  /** The inspector refused the body: the rest is drained, not kept. */
  | { kind: 'refused'; problem: string }
  /** The client went away (or was cut for being slow) before the end. */
  | { kind: 'aborted' };

/** Reads the body up to `max` bytes, each chunk shown to `inspect` as it arrives. */
function readBody(req: IncomingMessage, max: number, inspect?: (chunk: Buffer) => string | undefined): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let result: BodyRead | undefined;
    req.on('data', (chunk: Buffer) => {
      if (result) return;
      size += chunk.length;
      const problem = size > max ? undefined : inspect?.(chunk);
      if (size > max || problem) {
        result = problem ? { kind: 'refused', problem } : { kind: 'tooLarge' };
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(result ?? { kind: 'body', body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) }));
    req.on('close', () => {
      if (!req.complete) resolve({ kind: 'aborted' });
    });
    req.on('error', () => resolve({ kind: 'aborted' }));
  });
}

const isJson = (req: IncomingMessage): boolean => /^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '');

function send(res: ServerResponse, reply: RawReply): void {
  const { body } = reply;
  if (Array.isArray(body)) {
    let length = 0;
    for (const chunk of body) length += chunk.length;
    res.writeHead(reply.status, { ...reply.headers, 'Content-Length': String(length) });
    res.cork(); // end() uncorks: every chunk leaves in one write
    for (const chunk of body) res.write(chunk);
    res.end();
    return;
  }
  res.writeHead(reply.status, { ...reply.headers, 'Content-Length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.length) });
  res.end(body);
}

/** One port for every protocol: admin endpoints, XML protocols, API 3.0. */
export function createHttpServer(d: HttpDeps): Server {
  const timeouts = { ...HTTP_TIMEOUTS, ...d.timeouts };
  const server = createServer({
    keepAliveTimeout: timeouts.keepAliveMs,
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    // How often the two timeouts above are checked; Node's 30 s default would let a slow client stay far longer.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeouts.headersMs / 4))),
    maxHeaderSize: MAX_HEADER_BYTES,
  }, (req, res) => {
    const started = process.hrtime.bigint();
    void dispatch(req, res, started).catch((err) => {
      // Last resort: even a failure here answers a well-formed envelope.
      d.log.error({ err }, 'request dispatch failed');
      if (!res.headersSent) {
        send(res, { status: 200, headers: { 'Content-Type': 'application/json' }, body: errorBody('InternalError', 'An internal error occurred.', newRequestId()) });
      } else res.destroy();
    });
  });
  server.maxConnections = d.maxConnections;
  // Bytes that are not HTTP/1.1 never reach a handler; they still get an envelope.
  server.on('clientError', (err, socket) => {
    if (!socket.writable) return socket.destroy(err);
    const code = (err as NodeJS.ErrnoException).code;
    let status = '400 Bad Request';
    let body: string;
    if (code === 'HPE_HEADER_OVERFLOW') {
      status = '200 OK';
      body = errorBody('RequestSizeLimitExceeded', `The request line and headers may not exceed ${MAX_HEADER_BYTES} bytes.`, newRequestId());
    } else if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      return socket.end(requestTimeoutReply(timeouts));
    } else {
      body = errorBody('UnsupportedProtocol', 'The request is not valid HTTP/1.1.', newRequestId());
    }
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });

  // Clients configured with an HTTP proxy (http_proxy, Terraform's HTTP_PROXY)
  // open a tunnel first; behind it they speak to this same server.
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) socket.unshift(head);
    server.emit('connection', socket);
  });

  async function dispatch(req: IncomingMessage, res: ServerResponse, started: bigint): Promise<void> {
    // Absolute-form targets (`POST http://gaap.tencentcloudapi.com/`) come from proxy-configured clients.
    if (req.url && /^https?:\/\//i.test(req.url)) req.url = req.url.replace(/^https?:\/\/[^/?]*/i, '') || '/';
    const url = req.url ?? '/';
    if (url.startsWith(ADMIN_PREFIX)) {
      const denial = adminAccessDenial(req, d.adminAccess());
      if (denial) {
        res.setHeader('Connection', 'close'); // the body of a refused request is not read
        send(res, denial);
        return;
      }
      const guard = isJson(req) ? new JsonShapeGuard({ maxDepth: 64, maxValues: Infinity }) : undefined;
      const read = await readBody(req, MAX_ADMIN_BODY_BYTES, guard && ((chunk) => guard.feed(chunk)));
      if (read.kind === 'aborted') return;
      send(res, read.kind === 'body' ? await d.admin(req, read.body) : {
        status: read.kind === 'tooLarge' ? 413 : 400, headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ error: read.kind === 'tooLarge' ? `admin request bodies may not exceed ${MAX_ADMIN_BODY_BYTES} bytes` : `the JSON body ${read.problem}` }),
      });
      return;
    }
    if (wantsHomePage(req, url)) {
      send(res, homePage(req.headers.host ?? '127.0.0.1', d.version ?? ''));
      return;
    }
    const extra = d.protocols.find((p) => p.matches(req));
    if (extra) {
      const time = Date.now();
      const read = await readBody(req, extra.maxBody);
      if (read.kind === 'aborted') return;
      const reply = read.kind === 'body' ? await extra.handle(req, read.body) : extra.tooLarge(req);
      send(res, reply);
      if (d.recorder && reply.call) {
        d.recorder.record({
          ...reply.call, protocol: 'cos', time, ms: Number(process.hrtime.bigint() - started) / 1e6,
          method: req.method ?? 'GET', url, rawHeaders: req.rawHeaders, body: read.kind === 'body' ? read.body : EMPTY, response: reply.body,
        });
      }
      return;
    }
    const method = req.method ?? 'GET';
    const time = d.recorder ? Date.now() : 0;
    const guard = method === 'POST' && isJson(req) ? new JsonShapeGuard(API_JSON_LIMITS) : undefined;
    const read = await readBody(req, LIMITS.tc3Post, guard && ((chunk) => guard.feed(chunk)));
    if (read.kind === 'aborted') return;
    let outcome: Api3Outcome;
    if (read.kind === 'body') outcome = await d.api3.handle(method, url, req.headers, read.body);
    else {
      const requestId = newRequestId();
      outcome = read.kind === 'tooLarge'
        ? { requestId, errorCode: 'RequestSizeLimitExceeded', body: errorBody('RequestSizeLimitExceeded', `The request body may not exceed ${LIMITS.tc3Post} bytes.`, requestId) }
        : { requestId, errorCode: 'InvalidParameter', body: errorBody('InvalidParameter', `The request body ${read.problem}.`, requestId) };
    }
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'X-TC-RequestId': outcome.requestId };
    const traceId = req.headers['x-tc-traceid'];
    if (typeof traceId === 'string') headers['X-TC-TraceId'] = traceId;
    send(res, { status: 200, headers, body: outcome.body });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    d.log.info(
      {
        requestId: outcome.requestId,
        service: outcome.service,
        action: outcome.action,
        account: outcome.account,
        ms,
        code: outcome.errorCode,
        message: outcome.errorMessage === undefined ? undefined : maskMessage(outcome.errorMessage),
        // Parameters only at debug level: they cost a copy, and may be large.
        params: outcome.params !== undefined && d.log.isLevelEnabled('debug') ? maskParams(outcome.params) : undefined,
      },
      'request',
    );
    d.recorder?.record({
      requestId: outcome.requestId, service: outcome.service, action: outcome.action, account: outcome.account,
      errorCode: outcome.errorCode, fault: outcome.fault,
      protocol: 'api3', time, ms, method, url, rawHeaders: req.rawHeaders, body: read.kind === 'body' ? read.body : EMPTY, response: outcome.body,
    });
  }

  return server;
}
