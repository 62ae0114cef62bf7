/**
 * What HTTP and HTTPS listeners refuse before a request reaches an origin:
 * malformed framing (request smuggling), oversized heads and URLs, and
 * clients too slow to send their request. Node's strict parser does the
 * framing checks and the head timer at no cost per request; on the request
 * path this adds only a length check of the URL and, for requests with a
 * body, one timer. The fast path (`http-fast.ts`) serves only requests
 * inside a stricter subset and hands everything else to that parser.
 */
import { STATUS_CODES, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';

/** Longest URL (request target) served; longer answers 414. */
export const MAX_URL_BYTES = 8192;
/** Longest request head (request line and headers) the parser takes; longer answers 431 (414 when the request line alone is too long). */
export const MAX_HEAD_BYTES = 16384;
/** Longest answer head taken from an origin, on either path; a longer one answers 502. */
export const MAX_ANSWER_HEAD_BYTES = 65536;
/** A refused connection is closed this long after its answer at the latest, whether or not the client closes its side. */
const LINGER_MS = 2000;

export interface ClientLimits {
  /** The head must arrive within this long of the connection (or of the previous answer); a body may not pause longer. */
  clientTimeoutMs: number;
  /** Idle keep-alive connections are closed after this long. */
  keepaliveMs: number;
}

/**
 * Options of every listener's server: the strict parser (never the lenient
 * one, whatever the process flags say), the head size, the head timer
 * (checked at a quarter of its length, so it fires within 1.25× of it).
 * A whole-request limit would cut long uploads: bodies are watched for
 * pauses instead (`watchBody`).
 */
export function serverOptions(limits: ClientLimits) {
  return {
    insecureHTTPParser: false,
    maxHeaderSize: MAX_HEAD_BYTES,
    headersTimeout: limits.clientTimeoutMs,
    requestTimeout: 0,
    connectionsCheckingInterval: Math.min(5000, Math.max(25, Math.floor(limits.clientTimeoutMs / 4))),
    // HTTPS: a TLS handshake gets the same time as a head (plain HTTP servers ignore it).
    handshakeTimeout: limits.clientTimeoutMs,
  };
}

/** Applies the limits a server takes as properties, and answers what the parser refuses. */
export function guardServer(server: HttpServer | HttpsServer, limits: ClientLimits): void {
  server.keepAliveTimeout = limits.keepaliveMs;
  // A client that half-closes after its requests still gets their answers, as from nginx or HAProxy; Node's default aborts them.
  (server as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
  server.on('clientError', refuseMalformed);
}

/** The status for a parser error: 408 for a head that came too slowly, 414/431 for one too long, else 400; 0 for a socket error (nothing to answer). */
function statusOfParseError(err: NodeJS.ErrnoException & { rawPacket?: Buffer }): number {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (err.code === 'HPE_HEADER_OVERFLOW') return requestLineTooLong(err.rawPacket) ? 414 : 431;
  return err.code?.startsWith('HPE_') ? 400 : 0;
}

/** The data that overflowed begins with a line (or is one) longer than a URL may be: the request line is what overflowed. */
function requestLineTooLong(packet: Buffer | undefined): boolean {
  if (!packet) return false;
  const end = packet.indexOf('\r\n');
  return (end < 0 ? packet.length : end) > MAX_URL_BYTES;
}

/**
 * A request the parser refused: the client gets its status and the
 * connection closes, since nothing after a malformed request can be trusted
 * to start where the parser thinks. Answers to earlier pipelined requests
 * go first; an answer already begun for the broken request itself (its body
 * failed) cannot be replaced, so the connection just closes.
 */
function refuseMalformed(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex): void {
  const status = statusOfParseError(err);
  const answer = (): void => {
    const busy = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!socket.writable || status === 0) socket.destroy();
    else if (!busy) closeWith(socket, status);
    else if (!busy.req.complete) busy.headersSent ? socket.destroy() : closeWith(socket, status);
    else busy.once('finish', answer);
  };
  answer();
}

/** An answer as bytes, for a socket without a ServerResponse: the status line with the usual reason, `lines` (header lines, each ending in CRLF), its Content-Length, and `body`. */
export function rawAnswer(status: number, lines: string, body = ''): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** Writes a bodiless answer with `Connection: close`, ends the connection, and destroys it if the client lingers. */
export function closeWith(socket: Duplex, status: number): void {
  socket.end(rawAnswer(status, 'Connection: close\r\n'));
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * The status a parsed request is refused with before routing (0: none):
 * 414 for a URL too long; 400 for an HTTP/1.1 request without Host, which
 * Node's server refuses itself for ordinary requests but not for upgrades.
 */
export const requestRefusal = (req: IncomingMessage): number => {
  if ((req.url?.length ?? 0) > MAX_URL_BYTES) return 414;
  return req.headers.host === undefined && req.httpVersion === '1.1' ? 400 : 0;
};

/** The request carries a body (the parser has checked its framing). */
export const hasBody = ({ headers }: IncomingMessage): boolean =>
  headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');

/**
 * A request with a body (`hasBody`) whose client sends none of it for `ms`
 * (while the proxy is reading) calls `stalled` once. Pauses that are the origin's
 * (backpressure: the proxy is not reading) do not count.
 */
export function watchBody(req: IncomingMessage, ms: number, stalled: () => void): void {
  const socket = req.socket;
  let seen = socket.bytesRead;
  const timer = setInterval(() => {
    const read = socket.bytesRead;
    if (read !== seen || req.readableLength > 0 || req.readableFlowing === false) {
      seen = read;
      return;
    }
    clearInterval(timer);
    if (!req.complete) stalled();
  }, ms);
  timer.unref();
  const stop = () => clearInterval(timer);
  req.once('end', stop);
  req.once('close', stop);
}
