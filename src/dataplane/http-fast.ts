/**
 * The fast path of plain HTTP listeners: the common request (HTTP/1.1, no
 * body, no upgrade, a rule forwarding plain HTTP with nothing to rewrite)
 * is read from the client's socket and written to a pooled origin socket by
 * this file's own small parsers, without Node's request and response
 * objects or undici's dispatcher, which cost about half of the proxy's CPU
 * per request (BENCHMARKS.md).
 *
 * Anything else, and anything this parser is not sure of, goes to Node's
 * strict HTTP server: the connection is handed over, with the bytes not yet
 * served, before anything of that request is answered, and stays there.
 * So the checks against request smuggling, oversized heads and slow
 * bodies, basic authentication, error pages and WebSocket remain in one
 * place (`http.ts`, `http-guard.ts`).
 */
import { connect, type Socket } from 'node:net';
import type { Limits } from './caps';
import { closeWith, MAX_ANSWER_HEAD_BYTES, MAX_HEAD_BYTES, MAX_URL_BYTES } from './http-guard';
import { connectionListed, HOP_BY_HOP, rawProxyAnswer } from './http-forward';
import { keptIdleMs } from './origin-pool';

const CRLF2 = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\/[!-~]*) HTTP\/1\.1$/;
/** Control characters a field value may not hold (HTAB is allowed), and NBSP, which `trim()` would take for a space where Node keeps it. */
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f\xa0]/;
/** Answers up to this long that arrive whole with their head are written with it in one string. */
const SMALL_ANSWER_BYTES = 16384;

/** A request head the fast path may serve. */
export interface PlainRequest {
  method: string;
  url: string;
  /** Lower-case names, each once. */
  headers: Record<string, string>;
  /** The client asked to close after this answer. */
  close: boolean;
}

/**
 * The request in `head` (without its blank line), or undefined when it is
 * not one the fast path serves: another version or form, a body, an
 * upgrade or `Expect`, a repeated header, or anything Node's parser should
 * judge.
 */
export function plainRequest(head: string): PlainRequest | undefined {
  const lines = head.split('\r\n');
  const first = REQUEST_LINE.exec(lines[0]);
  if (!first || first[1] === 'CONNECT' || first[2].length > MAX_URL_BYTES) return undefined;
  const headers: Record<string, string> = {};
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name) || headers[name] !== undefined) return undefined;
    const raw = line.slice(colon + 1);
    if (BAD_VALUE.test(raw)) return undefined;
    const value = raw.trim();
    switch (name) {
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return undefined;
      case 'content-length':
        if (value !== '0') return undefined;
        break;
      case 'connection': {
        const v = value.toLowerCase();
        if (v === 'close') close = true;
        else if (v !== 'keep-alive') return undefined;
        break;
      }
    }
    headers[name] = value;
  }
  if (headers.host === undefined) return undefined;
  return { method: first[1], url: first[2], headers, close };
}

/** How the fast path serves one request: its origin, the head to send, and what to do when it ends. */
export interface FastExchange {
  pool: RawOriginPool;
  /** The request head for the origin, without its blank line. */
  head: string;
  /** The answer head arrived (status ≥ 200), after `ms`. */
  answered(ms: number): void;
  /** The exchange ended, whichever way. */
  done(): void;
  /** The proxy's Bandwidth, paced on answer bodies (undefined: caps off). */
  limits: Limits | undefined;
  /** The origin failed, before or during its answer (counted against it): the status and text the client gets if the answer had not begun. */
  failed(err: NodeJS.ErrnoException): { status: number; reason: string };
  /** The proxy ends the connection after this answer (`Connection: close`), as if the client had asked. */
  close?: boolean;
}

export interface FastClientSettings {
  /** A new connection's first request must begin within this long. */
  clientTimeoutMs: number;
  keepaliveMs: number;
}

/** The Date header, made once a second as Node's server does. */
let dateLine = '';
let dateSecond = 0;
function currentDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `Date: ${new Date(now).toUTCString()}\r\n`;
  }
  return dateLine;
}

/**
 * Serves a client connection's requests in order while they are plain;
 * `handOver` gives the connection, with the bytes not yet served, to
 * Node's server. `plan` decides each request (undefined: hand over).
 */
export class FastClient {
  private buf: Buffer | null = null;
  private busy = false;
  private paused = false;
  /** A request has been served on this connection. */
  private served = false;
  private ended = false;
  private exchange: OriginExchange | undefined;
  private readonly onData = (chunk: Buffer) => this.received(chunk);
  private readonly onEnd = () => {
    this.ended = true;
    if (!this.busy) this.next();
  };
  private readonly onTimeout = () => this.timedOut();
  private readonly onClose = () => this.exchange?.abandon();
  private readonly onError = () => this.socket.destroy();
  private readonly keepAlive: string;
  /** The socket's timeout now (set only when it changes: each call makes a timer). */
  private timeout = 0;

  constructor(
    private readonly socket: Socket,
    private readonly settings: FastClientSettings,
    private readonly plan: (req: PlainRequest) => FastExchange | undefined,
    private readonly handOver: (rest: Buffer | null, ended: boolean) => void,
  ) {
    this.keepAlive = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(settings.keepaliveMs / 1000)}\r\n`;
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('timeout', this.onTimeout);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
    this.setTimeout(settings.clientTimeoutMs);
  }

  private setTimeout(ms: number): void {
    if (ms === this.timeout) return;
    this.timeout = ms;
    this.socket.setTimeout(ms);
  }

  private received(chunk: Buffer): void {
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    if (!this.busy) return this.next();
    // Requests sent ahead of their answers wait; past a head's size the client is read no further until the answer is out.
    if (this.buf.length > MAX_HEAD_BYTES && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private next(): void {
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    const buf = this.buf;
    if (buf === null) {
      // Ending a socket already ended (after `Connection: close`) would make and drop an error, stack and all.
      if (this.ended && !this.socket.writableEnded) this.socket.end();
      return;
    }
    const end = buf.indexOf(CRLF2);
    // A head that did not come whole is Node's to wait for (with its head timer) or to refuse.
    if (end < 0 || end + 4 > MAX_HEAD_BYTES) return this.giveUp();
    const req = plainRequest(buf.toString('latin1', 0, end));
    const exchange = req && this.plan(req);
    if (!req || !exchange) return this.giveUp();
    this.buf = buf.length > end + 4 ? buf.subarray(end + 4) : null;
    // While busy the timer is ignored: the origin's timeout and the client's backpressure watch the exchange.
    this.busy = true;
    this.served = true;
    const close = req.close || exchange.close === true;
    this.exchange = new OriginExchange(this.socket, exchange, req, close ? 'Connection: close\r\n' : this.keepAlive, (reusable) => {
      this.exchange = undefined;
      this.busy = false;
      if (!reusable || close) {
        if (reusable) this.socket.end();
        else this.socket.destroy();
        return;
      }
      if (this.socket.destroyed) return;
      this.setTimeout(this.settings.keepaliveMs);
      // A client that does not read its answers gets no more of them until it does.
      if (this.socket.writableNeedDrain) this.socket.once('drain', () => this.busy || this.next());
      else this.next();
    });
  }

  /** Node's server takes the connection from here: the request in `buf` is its first. */
  private giveUp(): void {
    const rest = this.buf;
    this.buf = null;
    const s = this.socket;
    s.off('data', this.onData);
    s.off('end', this.onEnd);
    s.off('timeout', this.onTimeout);
    s.off('close', this.onClose);
    s.off('error', this.onError);
    s.setTimeout(0);
    if (this.paused) s.resume();
    this.handOver(rest, this.ended);
  }

  private timedOut(): void {
    if (this.busy) return;
    // No request on a new connection in time: 408, as Node's server answers. An idle keep-alive connection just closes.
    if (!this.served) closeWith(this.socket, 408);
    else this.socket.destroy();
  }
}

/**
 * Idle connections kept per plain HTTP origin; one put back beyond it is
 * closed. A burst of clients leaves as many origin connections as it had
 * requests in flight, and they would otherwise all wait out the idle time.
 */
export const MAX_IDLE_PER_ORIGIN = 1024;

/** Idle keep-alive connections to one plain HTTP origin. */
export class RawOriginPool {
  /** The most recently used last; each knows its place (`idleAt`), so dropping one costs the same however many wait. */
  private readonly idle: OriginConnection[] = [];
  private closed = false;

  /** Each connection's one timer: idle and answer times are counted in these steps. */
  readonly tickMs: number;

  constructor(
    readonly address: string,
    readonly port: number,
    /** Idle connections are closed after this long. */
    readonly idleMs: number,
    /** An origin that sends nothing for this long during an exchange fails it. */
    readonly timeoutMs: number,
    private readonly maxIdle = MAX_IDLE_PER_ORIGIN,
  ) {
    this.tickMs = Math.min(idleMs, timeoutMs);
  }

  /** Connections waiting for a request. */
  get idleCount(): number {
    return this.idle.length;
  }

  /** A pooled connection (`reused`), else a new one. */
  take(): { conn: OriginConnection; reused: boolean } {
    const conn = this.idle.pop();
    if (conn) {
      conn.idleAt = -1;
      return { conn, reused: true };
    }
    return { conn: this.open(), reused: false };
  }

  open(): OriginConnection {
    return new OriginConnection(connect({ host: this.address, port: this.port, noDelay: true }), this);
  }

  /** A connection whose last answer ended cleanly waits for the next request. */
  put(conn: OriginConnection): void {
    if (this.closed || conn.socket.destroyed || this.idle.length >= this.maxIdle) return void conn.socket.destroy();
    conn.begin(undefined);
    conn.idleAt = this.idle.length;
    this.idle.push(conn);
  }

  drop(conn: OriginConnection): void {
    const i = conn.idleAt;
    if (i < 0) return;
    conn.idleAt = -1;
    const last = this.idle.pop()!;
    if (last === conn) return;
    this.idle[i] = last;
    last.idleAt = i;
  }

  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) {
      c.idleAt = -1;
      c.socket.destroy();
    }
  }
}

/** One socket to an origin, with its listeners installed once; events go to the exchange using it. */
class OriginConnection {
  exchange: OriginExchange | undefined;
  /** Its place among the pool's idle connections; -1 while in use. */
  idleAt = -1;
  /** ms without a byte from the origin, counted in steps of at most `tickMs` (the socket's one timer, which fires once per step). */
  private quiet = 0;
  private tickMs: number;
  /** The step the socket's timer is set to now. */
  private step: number;
  private idleMs: number;

  constructor(
    readonly socket: Socket,
    private readonly pool: RawOriginPool,
  ) {
    this.tickMs = this.step = pool.tickMs;
    this.idleMs = pool.idleMs;
    socket.setTimeout(this.step);
    socket.on('data', (chunk: Buffer) => {
      this.quiet = 0;
      // Bytes no request asked for: the connection can no longer be trusted to start an answer where the next request expects it.
      if (this.exchange) this.exchange.data(chunk);
      else this.socket.destroy();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.ended(err));
    socket.on('close', () => this.ended(undefined));
    socket.on('end', () => this.ended(undefined));
    socket.on('timeout', () => this.tick());
  }

  /** The connection serves `exchange` now (undefined: it waits in the pool). */
  begin(exchange: OriginExchange | undefined): void {
    this.exchange = exchange;
    this.quiet = 0;
  }

  /** The origin's `Keep-Alive: timeout` hint: the connection is closed before the origin closes it. False: too short to keep it at all. */
  hinted(seconds: number): boolean {
    const idle = keptIdleMs(seconds);
    if (idle <= 0) return false;
    this.idleMs = idle;
    const tick = Math.min(idle, this.pool.timeoutMs);
    if (tick < this.tickMs) this.arm((this.tickMs = tick));
    return true;
  }

  private tick(): void {
    this.quiet += this.step;
    if (this.exchange) {
      if (this.quiet >= this.pool.timeoutMs) return this.exchange.fail(Object.assign(new Error('the origin did not answer in time'), { code: 'ETIMEDOUT' }));
    } else if (this.quiet + this.tickMs > this.idleMs) return void this.socket.destroy();
    // A socket's timer fires once per quiet spell, not once per step: it is armed again for the next one, which ends an exchange's wait on time.
    if (!this.socket.destroyed) this.arm(this.exchange ? Math.min(this.tickMs, this.pool.timeoutMs - this.quiet) : this.tickMs);
  }

  private arm(ms: number): void {
    this.step = ms;
    this.socket.setTimeout(ms);
  }

  private ended(err: NodeJS.ErrnoException | undefined): void {
    const ex = this.exchange;
    this.exchange = undefined;
    this.pool.drop(this);
    this.socket.destroy();
    ex?.originEnded(err);
  }
}

const enum Body {
  None,
  Length,
  Chunked,
  /** Until the origin closes: passed on chunked. */
  Close,
}

const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailer,
}

/** One request on an origin connection and the answer relayed to the client. */
class OriginExchange {
  private conn!: OriginConnection;
  private reused = false;
  private retried = false;
  private received = false;
  private headSent = false;
  private finished = false;
  private started = 0;
  private head: Buffer | null = null;
  private body = Body.None;
  private left = 0;
  private chunk = Chunk.Size;
  private line = '';
  /** The origin keeps the connection open after this answer. */
  private keep = true;
  private stuck: NodeJS.Timeout | undefined;
  /** Reasons the origin's answer is paused (the client's backpressure, the bandwidth's wait). */
  private holds = 0;

  constructor(
    private readonly client: Socket,
    private readonly plan: FastExchange,
    private readonly req: PlainRequest,
    private readonly connectionLines: string,
    private readonly end: (reusable: boolean) => void,
  ) {
    this.send();
  }

  private send(fresh = false): void {
    const { conn, reused } = fresh ? { conn: this.plan.pool.open(), reused: false } : this.plan.pool.take();
    conn.begin(this);
    this.conn = conn;
    this.reused = reused;
    this.started = performance.now();
    conn.socket.write(`${this.plan.head}\r\n\r\n`, 'latin1');
  }

  /** The client left: the origin's connection cannot be reused mid-answer. */
  abandon(): void {
    if (this.finished) return;
    this.finish(false);
    this.conn.exchange = undefined;
    this.conn.socket.destroy();
  }

  originEnded(err: NodeJS.ErrnoException | undefined): void {
    if (this.finished) return;
    // An answer framed by the connection's end is whole when the origin closes cleanly; a reset cuts it (the client's connection ends, below).
    if (this.body === Body.Close && this.headSent && !err) {
      this.client.write('0\r\n\r\n');
      this.keep = false;
      return this.complete();
    }
    // A pooled connection the origin closed as it was reused: once more, on a connection of its own.
    if (!this.received && this.reused && !this.retried) {
      this.retried = true;
      return this.send(true);
    }
    this.fail(err ?? Object.assign(new Error('the origin closed the connection'), { code: 'ECONNRESET' }));
  }

  fail(err: NodeJS.ErrnoException): void {
    if (this.finished) return;
    this.conn.exchange = undefined;
    this.conn.socket.destroy();
    // A failure counts against the origin whether or not its answer had begun (the passive checks count both, as on Node's path).
    const { status, reason } = this.plan.failed(err);
    if (this.headSent) {
      this.finish(false);
      return;
    }
    this.client.write(rawProxyAnswer(status, reason, currentDate() + this.connectionLines));
    this.finish(true);
  }

  data(chunk: Buffer): void {
    if (this.finished) return;
    this.received = true;
    if (!this.headSent) {
      const buf = this.head ? Buffer.concat([this.head, chunk]) : chunk;
      const end = buf.indexOf(CRLF2);
      if (end < 0 || end + 4 > MAX_ANSWER_HEAD_BYTES) {
        if (end >= 0 || buf.length > MAX_ANSWER_HEAD_BYTES) this.fail(Object.assign(new Error('the origin sent an oversized head'), { code: 'EPROTO' }));
        else this.head = buf;
        return;
      }
      this.head = null;
      const out = this.answerHead(buf.toString('latin1', 0, end));
      if (out === undefined) return this.fail(Object.assign(new Error('the origin sent a malformed answer'), { code: 'EPROTO' }));
      const rest = buf.subarray(end + 4);
      // Informational answers are the proxy's business with the origin.
      if (out === null) return rest.length > 0 ? this.data(rest) : undefined;
      this.headSent = true;
      this.plan.answered(performance.now() - this.started);
      if (this.body === Body.None) {
        if (rest.length > 0) this.keep = false;
        this.write(out);
        return this.complete();
      }
      // A small answer that came whole with its head (the common case) goes out as one string: one write, no writev.
      if (this.body === Body.Length && rest.length >= this.left && this.left <= SMALL_ANSWER_BYTES) {
        if (rest.length > this.left) this.keep = false;
        this.pace(this.left);
        this.write(out + rest.toString('latin1', 0, this.left));
        this.left = 0;
        return this.complete();
      }
      this.client.cork();
      this.client.write(out, 'latin1');
      if (rest.length > 0) this.relay(rest);
      this.client.uncork();
      return;
    }
    this.relay(chunk);
  }

  /**
   * The client's head for the origin's answer (latin1), null for an
   * informational answer, undefined for one that cannot be relayed. Sets
   * how the body is framed.
   */
  private answerHead(head: string): string | null | undefined {
    const lines = head.split('\r\n');
    const status = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/.exec(lines[0]);
    if (!status) return undefined;
    const code = Number(status[2]);
    if (code < 200) return code === 101 ? undefined : null;
    let out = `HTTP/1.1 ${code} ${status[3] ?? ''}\r\n`;
    let length: string | undefined;
    let chunked = false;
    let connection = '';
    let dated = false;
    const kept: string[] = [];
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(':');
      if (colon <= 0) return undefined;
      const name = line.slice(0, colon).toLowerCase();
      if (!TOKEN.test(name)) return undefined;
      if (HOP_BY_HOP.has(name)) {
        const value = line.slice(colon + 1).trim().toLowerCase();
        if (name === 'transfer-encoding') {
          if (value !== 'chunked') return undefined;
          chunked = true;
        } else if (name === 'connection') connection = value;
        else if (name === 'keep-alive') {
          const hint = /timeout=(\d+)/.exec(value);
          if (hint && !this.conn.hinted(Number(hint[1]))) this.keep = false;
        }
        continue;
      }
      if (name === 'content-length') {
        const value = line.slice(colon + 1).trim();
        if (!/^\d{1,15}$/.test(value) || (length !== undefined && length !== value)) return undefined;
        if (length !== undefined) continue;
        length = value;
      } else if (name === 'date') dated = true;
      kept.push(name, line);
    }
    const listed = connectionListed(connection || undefined);
    // HTTP/1.0 origins close unless they say keep-alive; HTTP/1.1 ones keep unless they say close (alone or among other names).
    const says = (token: string) => connection === token || !!listed?.includes(token);
    if (says('close') || (status[1] === '0' && !says('keep-alive'))) this.keep = false;
    for (let i = 0; i < kept.length; i += 2) {
      if (chunked && kept[i] === 'content-length') continue;
      if (listed?.includes(kept[i])) continue;
      out += `${kept[i + 1]}\r\n`;
    }
    if (this.req.method === 'HEAD' || code === 204 || code === 304) this.body = Body.None;
    else if (chunked) this.body = Body.Chunked;
    else if (length !== undefined) {
      this.left = Number(length);
      this.body = this.left === 0 ? Body.None : Body.Length;
    } else {
      this.body = Body.Close;
      this.keep = false;
    }
    if (this.body === Body.Chunked || this.body === Body.Close) out += 'Transfer-Encoding: chunked\r\n';
    if (!dated) out += currentDate();
    return `${out}${this.connectionLines}\r\n`;
  }

  private relay(chunk: Buffer): void {
    this.pace(chunk.length);
    switch (this.body) {
      case Body.Length: {
        if (chunk.length > this.left) {
          this.keep = false;
          chunk = chunk.subarray(0, this.left);
        }
        this.left -= chunk.length;
        this.write(chunk);
        if (this.left === 0) this.complete();
        return;
      }
      case Body.Close:
        this.write(`${chunk.length.toString(16)}\r\n`);
        this.write(chunk);
        this.write('\r\n');
        return;
      case Body.Chunked: {
        const used = this.scanChunks(chunk);
        if (used < 0) return this.fail(Object.assign(new Error('the origin sent malformed chunks'), { code: 'EPROTO' }));
        if (used < chunk.length) this.keep = false;
        this.write(used < chunk.length ? chunk.subarray(0, used) : chunk);
        if (this.chunk === Chunk.Trailer && this.line === '\n') this.complete();
        return;
      }
    }
  }

  /**
   * Follows the chunked framing through `chunk`: the bytes that belong to
   * this answer (all of them unless it ended inside), or -1 when the
   * framing is broken. The answer has ended when the trailer's blank line is read.
   */
  private scanChunks(chunk: Buffer): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.chunk === Chunk.Data) {
        const n = Math.min(this.left, chunk.length - i);
        i += n;
        this.left -= n;
        if (this.left === 0) this.chunk = Chunk.DataEnd;
        continue;
      }
      const c = chunk[i++];
      if (c !== 0x0a) {
        if (this.line.length > 4096) return -1;
        this.line += String.fromCharCode(c);
        continue;
      }
      const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
      this.line = '';
      if (this.chunk === Chunk.DataEnd) {
        if (line !== '') return -1;
        this.chunk = Chunk.Size;
      } else if (this.chunk === Chunk.Size) {
        const size = /^([0-9a-fA-F]{1,8})(?:[ \t]*;.*)?$/.exec(line);
        if (!size) return -1;
        this.left = parseInt(size[1], 16);
        this.chunk = this.left === 0 ? Chunk.Trailer : Chunk.Data;
      } else if (line === '') {
        // The blank line that ends the trailer: the answer is whole.
        this.line = '\n';
        return i;
      }
    }
    return i;
  }

  /** Strings are Latin-1 (heads and framing), as they came from the origin. */
  private write(data: Buffer | string): void {
    if (this.client.write(data, 'latin1') || this.stuck) return;
    // The client is not reading: the origin waits, and a client that never reads again is let go after the origin timeout.
    this.hold();
    this.stuck = setTimeout(() => {
      this.abandon();
      this.client.destroy();
    }, this.plan.pool.timeoutMs);
    this.client.once('drain', () => {
      if (this.stuck === undefined) return;
      clearTimeout(this.stuck);
      this.stuck = undefined;
      this.letGo();
    });
  }

  /** The proxy's Bandwidth: `bytes` of answer body drawn from its outbound bucket; the origin waits while it is in debt. */
  private pace(bytes: number): void {
    const wait = this.plan.limits?.out.take(bytes) ?? 0;
    if (wait <= 0) return;
    this.hold();
    setTimeout(() => this.letGo(), wait);
  }

  /** The origin's answer stops flowing until as many `letGo` calls. */
  private hold(): void {
    if (this.holds++ === 0) this.conn.socket.pause();
  }

  private letGo(): void {
    if (this.finished || this.holds === 0) return;
    if (--this.holds === 0) this.conn.socket.resume();
  }

  private complete(): void {
    if (this.finished) return;
    const conn = this.conn;
    // The whole answer is with the client's socket (or the bucket's wait is the next answer's): whether the client reads it is its connection's business now.
    clearTimeout(this.stuck);
    this.stuck = undefined;
    if (this.holds > 0) {
      this.holds = 0;
      conn.socket.resume();
    }
    // Back in the pool before the client's next request is read, which may take it.
    if (this.keep && !conn.socket.destroyed) this.plan.pool.put(conn);
    else {
      conn.exchange = undefined;
      conn.socket.destroy();
    }
    this.finish(true);
  }

  private finish(clientReusable: boolean): void {
    this.finished = true;
    this.plan.done();
    this.end(clientReusable && !this.client.destroyed);
  }
}
