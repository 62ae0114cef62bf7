/**
 * Keep-alive connections to the origins of HTTP and HTTPS rules: one undici
 * pool per origin address, port and TLS settings, shared by every rule that
 * reaches the origin the same way. A pool has no cap on connections (a slow
 * answer holds one connection, never another request's), keeps an idle
 * connection for ORIGIN_IDLE_MS (or the origin's own `Keep-Alive: timeout`
 * less a second), and is closed once no rule of the configuration names its
 * origin. Connections are made here, not by undici: SNI is exactly the rule's
 * (none when the rule sets none, whatever the Host), and the proxy's own
 * timeout covers the connect and TLS handshake.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type ConnectionOptions, type SecureContext, type TLSSocket } from 'node:tls';
import type * as Undici from 'undici';
import { MAX_ANSWER_HEAD_BYTES } from './http-guard';

let undiciModule: typeof Undici | undefined;
/** undici is loaded with the first pool, not at every start: a server whose requests all take the fast path never needs it. */
const undici = (): typeof Undici => (undiciModule ??= require('undici') as typeof Undici);

/** An idle pooled connection to an origin is closed after this long, unless the origin asks for less. */
export const ORIGIN_IDLE_MS = 4000;
/** Subtracted from an origin's `Keep-Alive: timeout` hint, so that the proxy closes first. */
const ORIGIN_HINT_MARGIN_MS = 1000;
/** Longest idle time an origin's hint can ask for. */
const ORIGIN_IDLE_MAX_MS = 600_000;
/** Pools told apart by the client's Host (origins verified for the Host sent) kept at most; past it the oldest is closed. */
const MAX_HOST_POOLS = 256;

/** Where and how to reach one origin. */
export interface OriginTarget {
  address: string;
  port: number;
  /** TLS options for HTTPS origins (SNI, CAs, identity check, client certificate); undefined: plain HTTP. */
  tls: ConnectionOptions | undefined;
}

interface Entry {
  pool: Undici.Pool;
  /** The configuration key the pool serves (rule TLS settings, address, port): what `retain` compares. */
  base: string;
}

/** Opens one connection: plain or TLS, failing with ETIMEDOUT when it is not ready within `timeoutMs`. */
function connector(target: OriginTarget, timeoutMs: number): Undici.buildConnector.connector {
  let session: Buffer | undefined;
  // The CAs and client certificate are parsed once per pool, not per connection.
  let context: SecureContext | undefined;
  return (_opts, callback) => {
    if (target.tls) context ??= createSecureContext(target.tls);
    const socket: Socket | TLSSocket = target.tls
      ? tlsConnect({ ...target.tls, secureContext: context, host: target.address, port: target.port, session })
      : netConnect({ host: target.address, port: target.port });
    socket.setNoDelay(true);
    let settled = false;
    const settle = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('error', settle);
      if (err) {
        socket.destroy();
        callback(err, null);
      } else callback(null, socket);
    };
    const timer = setTimeout(() => settle(Object.assign(new Error('the origin did not accept the connection in time'), { code: 'ETIMEDOUT' })), timeoutMs);
    // A TLS session kept for the next connection to the same origin saves its full handshake.
    if (target.tls) socket.on('session', (s: Buffer) => (session = s));
    socket.once(target.tls ? 'secureConnect' : 'connect', () => settle(null));
    socket.once('error', settle);
  };
}

export class OriginPools {
  private readonly pools = new Map<string, Entry>();
  /** Pools whose key names more than their base (a Host): clients choose those names. */
  private hostPools = 0;

  /** `timeoutMs`: connect, answer head and each pause of an answer body. */
  constructor(private readonly timeoutMs: number) {}

  private options(target: OriginTarget) {
    return {
      connect: connector(target, this.timeoutMs),
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      maxHeaderSize: MAX_ANSWER_HEAD_BYTES,
      keepAliveTimeout: ORIGIN_IDLE_MS,
      keepAliveMaxTimeout: ORIGIN_IDLE_MAX_MS,
      keepAliveTimeoutThreshold: ORIGIN_HINT_MARGIN_MS,
    };
  }

  /** The pool for `key` (`base` plus what else tells connections apart), made on first use. */
  get(key: string, base: string, target: () => OriginTarget): Undici.Pool {
    let e = this.pools.get(key);
    if (!e) {
      if (key !== base && ++this.hostPools > MAX_HOST_POOLS) this.closeOldestHostPool();
      const t = target();
      // The URL's scheme is undici's only: the connector decides TLS.
      const pool = new (undici().Pool)(`${t.tls ? 'https' : 'http'}://${urlHost(t.address)}:${t.port}`, this.options(t));
      this.pools.set(key, (e = { pool, base }));
    }
    return e.pool;
  }

  private closeOldestHostPool(): void {
    for (const [key, e] of this.pools) {
      if (key === e.base) continue;
      this.close(key, e);
      return;
    }
  }

  private close(key: string, e: Entry): void {
    this.pools.delete(key);
    if (key !== e.base) this.hostPools--;
    void e.pool.close().catch(() => undefined);
  }

  /** A client of one connection, for a request that must not reuse a pooled connection; closed by the caller. */
  fresh(target: OriginTarget): Undici.Client {
    return new (undici().Client)(`${target.tls ? 'https' : 'http'}://${urlHost(target.address)}:${target.port}`, { ...this.options(target), pipelining: 0 });
  }

  /** Closes the pools of origins the configuration no longer names (requests under way finish first). */
  retain(live: ReadonlySet<string>): void {
    for (const [key, e] of this.pools) {
      if (!live.has(e.base)) this.close(key, e);
    }
  }

  closeAll(): void {
    for (const e of this.pools.values()) void e.pool.destroy().catch(() => undefined);
    this.pools.clear();
    this.hostPools = 0;
  }
}

/** How long an idle connection is kept when the origin hints `Keep-Alive: timeout=<seconds>` (0 or less: not at all). */
export const keptIdleMs = (seconds: number): number => Math.min(ORIGIN_IDLE_MAX_MS, seconds * 1000 - ORIGIN_HINT_MARGIN_MS);

const urlHost = (address: string): string => (address.includes(':') ? `[${address}]` : address);
