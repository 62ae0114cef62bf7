/**
 * One TCP connection through a listener: the origin is chosen at accept
 * time, the client's bytes wait until the origin answers, then both
 * directions are piped with half-close (a FIN travels on its own) and
 * resets propagated (an error on one side resets the other).
 */
import { connect, isIP, type Socket } from 'node:net';
import { pacedPipe, type Limits } from './caps';
import { resolveAll } from './health';
import { measureRtt, type OriginState } from './origins';

export const unmapped = (ip: string): string => (ip.startsWith('::ffff:') ? ip.slice(7) : ip);

/** PROXY protocol version 1: one text line before the client's bytes (the listener's address as the destination when its family matches the client's). */
export function proxyHeaderLine(clientIp: string, clientPort: number, localIp: string, listenerAddress: string, listenerPort: number): string {
  const src = unmapped(clientIp);
  const v6 = src.includes(':');
  const dst = v6 === listenerAddress.includes(':') ? listenerAddress : unmapped(localIp);
  return `PROXY ${v6 ? 'TCP6' : 'TCP4'} ${src} ${dst} ${clientPort} ${listenerPort}\r\n`;
}

export const proxyHeader = (client: Socket, listenerAddress: string, listenerPort: number): string =>
  proxyHeaderLine(client.remoteAddress ?? '', client.remotePort ?? 0, client.localAddress ?? '', listenerAddress, listenerPort);

/** Opens one connection to `ip:port`, bounded by `timeoutMs`; `done` is called once. */
export type Dial<S> = (ip: string, port: number, timeoutMs: number, done: (err: Error | undefined, s?: S) => void) => void;

/**
 * Connects to the first address of the origin that accepts (a domain
 * origin's addresses in turn), without promises on the common path: an IP
 * origin is dialled at once. The connect time feeds lrtt; an origin that
 * cannot be reached counts as one that took the whole timeout, so lrtt does
 * not keep choosing it for want of a measure.
 */
export function connectOrigin<S>(o: OriginState, timeoutMs: number, dial: Dial<S>, done: (err: Error | undefined, s?: S) => void): void {
  const failed = (err: Error): void => {
    measureRtt(o, timeoutMs);
    done(err);
  };
  const next = (ips: string[], i: number, last: Error | undefined): void => {
    if (i >= ips.length) return failed(last ?? new Error(`${o.origin.address} has no address`));
    const started = performance.now();
    dial(ips[i], o.origin.port, timeoutMs, (err, s) => {
      if (err || !s) return next(ips, i + 1, err);
      measureRtt(o, performance.now() - started);
      done(undefined, s);
    });
  };
  if (isIP(o.origin.address)) next([o.origin.address], 0, undefined);
  else resolveAll(o.origin.address).then((ips) => next(ips, 0, undefined), failed);
}

/** A net.Socket to the origin; the socket's own timeout bounds the connect. */
const dialSocket: Dial<Socket> = (ip, port, timeoutMs, done) => {
  const s = connect({ host: ip, port, allowHalfOpen: true, noDelay: true, timeout: timeoutMs });
  const fail = (err: Error) => {
    s.removeAllListeners();
    s.destroy();
    done(err);
  };
  const onTimeout = () => fail(new Error(`connect to ${ip}:${port} timed out`));
  s.once('error', fail);
  s.once('timeout', onTimeout);
  s.once('connect', () => {
    s.off('error', fail);
    s.off('timeout', onTimeout);
    s.setTimeout(0);
    done(undefined, s);
  });
};

/**
 * src to dst with backpressure, as `src.pipe(dst)` does, with three listeners
 * instead of pipe's seven and its bookkeeping: a short connection pays for
 * every listener it registers.
 */
function relay(src: Socket, dst: Socket): void {
  src.on('data', (chunk: Buffer) => {
    if (!dst.write(chunk)) src.pause();
  });
  dst.on('drain', () => src.resume());
  src.on('end', () => dst.end());
}

function closeAfterFlush(s: Socket): void {
  if (s.destroyed) return;
  if (s.writableFinished) s.destroy();
  else s.end(() => s.destroy());
}

/** What the accounting and the idle sweep read of either end of a relayed connection: a net.Socket, or an end of a relay on raw handles (handle-relay.ts). */
export interface RelayEnd {
  readonly bytesRead: number;
  readonly bytesWritten: number;
  destroy(): void;
}

export interface TcpConnection<E extends RelayEnd = Socket> {
  client: E;
  upstream: E | undefined;
  /** Client bytes already counted (in), bytes sent to the client already counted (out). */
  countedIn: number;
  countedOut: number;
}

/**
 * Idle connections found by a periodic sweep instead of a socket timeout:
 * a socket timeout is re-armed on every chunk read and written, which cost
 * a third of the relay's CPU per byte on a bulk transfer. Every byte either
 * way is read from one of the two sockets, so their read counts moving is
 * traffic. A connection is closed between `idleMs` and a quarter more after
 * its last byte.
 */
class IdleSweep {
  private readonly conns = new Map<TcpConnection<RelayEnd>, { bytes: number; since: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly idleMs: number) {
    this.timer = setInterval(() => this.sweep(), Math.max(25, Math.min(idleMs / 4, 5000)));
    this.timer.unref();
  }

  add(conn: TcpConnection<RelayEnd>): void {
    this.conns.set(conn, { bytes: 0, since: Date.now() });
  }

  delete(conn: TcpConnection<RelayEnd>): void {
    this.conns.delete(conn);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [conn, seen] of this.conns) {
      const bytes = conn.client.bytesRead + (conn.upstream?.bytesRead ?? 0);
      if (bytes !== seen.bytes) {
        seen.bytes = bytes;
        seen.since = now;
      } else if (now - seen.since >= this.idleMs) {
        this.conns.delete(conn);
        conn.client.destroy();
        conn.upstream?.destroy();
      }
    }
  }
}

/** One sweep per idle time in use (the setting gives one per process). */
const sweeps = new Map<number, IdleSweep>();
export const sweepFor = (idleMs: number): IdleSweep => {
  let s = sweeps.get(idleMs);
  if (!s) sweeps.set(idleMs, (s = new IdleSweep(idleMs)));
  return s;
};

export interface Forward<E extends RelayEnd = Socket> {
  origin: OriginState;
  /** PROXY header to send first, if the listener asks for one. */
  header: string | undefined;
  connectTimeoutMs: number;
  /** No byte either way for this long closes both sides. */
  idleMs: number;
  /** The proxy's bandwidth per direction (in: client to origin), when capped. */
  limits: Limits | undefined;
  /** Called once, when both sockets are gone. */
  done(conn: TcpConnection<E>): void;
}

export function forward(client: Socket, f: Forward): TcpConnection {
  const conn: TcpConnection = { client, upstream: undefined, countedIn: 0, countedOut: 0 };
  let finished = false;
  const idle = sweepFor(f.idleMs);
  idle.add(conn);
  const finish = () => {
    if (finished) return;
    if (!client.destroyed || (conn.upstream && !conn.upstream.destroyed)) return;
    finished = true;
    idle.delete(conn);
    f.done(conn);
  };
  client.on('error', () => {
    conn.upstream?.resetAndDestroy();
    client.destroy();
  });
  // Once one side is gone, the other can only deliver what it still holds: it is reset when the first was, else closed after a flush.
  client.on('close', (hadError) => {
    if (conn.upstream) hadError ? conn.upstream.resetAndDestroy() : closeAfterFlush(conn.upstream);
    finish();
  });
  connectOrigin(f.origin, f.connectTimeoutMs, dialSocket, (err, upstream) => {
    if (err || !upstream) {
      // No origin address accepted: the client sees a reset, as from a refusing server.
      if (!client.destroyed) client.resetAndDestroy();
      finish();
      return;
    }
    if (client.destroyed) {
      upstream.destroy();
      finish();
      return;
    }
    conn.upstream = upstream;
    upstream.on('error', () => {
      if (!client.destroyed) client.resetAndDestroy();
      upstream.destroy();
    });
    upstream.on('close', (hadError) => {
      if (hadError) client.resetAndDestroy();
      else closeAfterFlush(client);
      finish();
    });
    if (f.header) upstream.write(f.header);
    if (f.limits) {
      pacedPipe(client, upstream, f.limits.in);
      pacedPipe(upstream, client, f.limits.out);
    } else {
      relay(client, upstream);
      relay(upstream, client);
    }
  });
  return conn;
}
