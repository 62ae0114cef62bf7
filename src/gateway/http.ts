import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { requestId as newRequestId } from '../core/ids';
import type { Api3Gateway, Api3Outcome } from './api3/pipeline';
import { errorBody } from './api3/envelope';
import { LIMITS } from './api3/request';
import type { CallRecorder, CallSummary } from './observe';

/** A reply written by a protocol handler other than API 3.0. */
export interface RawReply {
  status: number;
  headers: Record<string, string>;
  /** Chunks are written in order, in one system call, without being joined first. */
  body: string | Buffer | Buffer[];
  /** For API calls: what the request log records of it. */
  call?: CallSummary;
}

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
  log: Logger;
  /** Sees every API call after it is answered (the request log); admin requests are not API calls. */
  recorder?: CallRecorder;
}

/** Room for a GET of the documented 32 KB plus headers, so it is answered, not cut off. */
const MAX_HEADER_BYTES = 64 * 1024;
/** Admin bodies carry whole state exports (tens of MB for a 10,000-proxy account). */
const MAX_ADMIN_BODY_BYTES = 1024 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

/** Reads the body up to `max` bytes; beyond it, drains the rest and returns undefined. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

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
  const server = createServer({ keepAliveTimeout: 65_000, maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    const started = process.hrtime.bigint();
    void dispatch(req, res, started).catch((err) => {
      // Last resort: even a failure here answers a well-formed envelope.
      d.log.error({ err }, 'request dispatch failed');
      if (!res.headersSent) {
        send(res, { status: 200, headers: { 'Content-Type': 'application/json' }, body: errorBody('InternalError', 'An internal error occurred.', newRequestId()) });
      } else res.destroy();
    });
  });
  // Bytes that are not HTTP/1.1 never reach a handler; they still get an envelope.
  server.on('clientError', (err, socket) => {
    if (!socket.writable) return socket.destroy(err);
    const tooLarge = (err as NodeJS.ErrnoException).code === 'HPE_HEADER_OVERFLOW';
    const body = tooLarge
      ? errorBody('RequestSizeLimitExceeded', `The request line and headers may not exceed ${MAX_HEADER_BYTES} bytes.`, newRequestId())
      : errorBody('UnsupportedProtocol', 'The request is not valid HTTP/1.1.', newRequestId());
    const status = tooLarge ? '200 OK' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });

  // Clients configured with an HTTP proxy (http_proxy, Terraform's HTTP_PROXY)
  // open a tunnel first; behind it they speak plain HTTP to this same server.
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) socket.unshift(head);
    server.emit('connection', socket);
  });

  async function dispatch(req: IncomingMessage, res: ServerResponse, started: bigint): Promise<void> {
    // Absolute-form targets (`POST http://gaap.tencentcloudapi.com/`) come from proxy-configured clients.
    if (req.url && /^https?:\/\//i.test(req.url)) req.url = req.url.replace(/^https?:\/\/[^/?]*/i, '') || '/';
    const url = req.url ?? '/';
    if (url.startsWith('/_tclocal/')) {
      const body = await readBody(req, MAX_ADMIN_BODY_BYTES);
      send(res, body ? await d.admin(req, body) : {
        status: 413, headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ error: `admin request bodies may not exceed ${MAX_ADMIN_BODY_BYTES} bytes` }),
      });
      return;
    }
    const extra = d.protocols.find((p) => p.matches(req));
    if (extra) {
      const time = Date.now();
      const body = await readBody(req, extra.maxBody);
      const reply = body === undefined ? extra.tooLarge(req) : await extra.handle(req, body);
      send(res, reply);
      if (d.recorder && reply.call) {
        d.recorder.record({
          ...reply.call, protocol: 'cos', time, ms: Number(process.hrtime.bigint() - started) / 1e6,
          method: req.method ?? 'GET', url, rawHeaders: req.rawHeaders, body: body ?? EMPTY, response: reply.body,
        });
      }
      return;
    }
    const method = req.method ?? 'GET';
    const time = d.recorder ? Date.now() : 0;
    const body = await readBody(req, LIMITS.tc3Post);
    const outcome: Api3Outcome = body === undefined
      ? { requestId: newRequestId(), errorCode: 'RequestSizeLimitExceeded', body: '' }
      : await d.api3.handle(method, url, req.headers, body);
    if (body === undefined) {
      outcome.body = errorBody('RequestSizeLimitExceeded', `The request body may not exceed ${LIMITS.tc3Post} bytes.`, outcome.requestId);
    }
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'X-TC-RequestId': outcome.requestId };
    const traceId = req.headers['x-tc-traceid'];
    if (typeof traceId === 'string') headers['X-TC-TraceId'] = traceId;
    send(res, { status: 200, headers, body: outcome.body });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    d.log.info(
      { requestId: outcome.requestId, service: outcome.service, action: outcome.action, account: outcome.account, ms, code: outcome.errorCode },
      'request',
    );
    d.recorder?.record({
      requestId: outcome.requestId, service: outcome.service, action: outcome.action, account: outcome.account,
      errorCode: outcome.errorCode, fault: outcome.fault,
      protocol: 'api3', time, ms, method, url, rawHeaders: req.rawHeaders, body: body ?? EMPTY, response: outcome.body,
    });
  }

  return server;
}
