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

/** PROXY protocol version 1: one text line before the client's bytes. */
export function proxyHeader(client: Socket, listenerAddress: string, listenerPort: number): string {
  const src = unmapped(client.remoteAddress ?? '');
  const v6 = src.includes(':');
  const dst = v6 === listenerAddress.includes(':') ? listenerAddress : unmapped(client.localAddress ?? '');
  return `PROXY ${v6 ? 'TCP6' : 'TCP4'} ${src} ${dst} ${client.remotePort} ${listenerPort}\r\n`;
}

/**
 * Connects to the first address of the origin that accepts (a domain
 * origin's addresses in turn), without promises or timers of its own on the
 * common path: an IP origin is dialled at once, and the socket's own timeout
 * bounds the connect.
 */
function connectOrigin(o: OriginState, timeoutMs: number, done: (err: Error | undefined, s?: Socket) => void): void {
  const dial = (ips: string[], i: number, last: Error | undefined): void => {
    if (i >= ips.length) return done(last ?? new Error(`${o.origin.address} has no address`));
    const started = performance.now();
    const s = connect({ host: ips[i], port: o.origin.port, allowHalfOpen: true, noDelay: true, timeout: timeoutMs });
    const fail = (err: Error) => {
      s.removeAllListeners();
      s.destroy();
      dial(ips, i + 1, err);
    };
    const onTimeout = () => fail(new Error(`connect to ${ips[i]}:${o.origin.port} timed out`));
    s.once('error', fail);
    s.once('timeout', onTimeout);
    s.once('connect', () => {
      s.off('error', fail);
      s.off('timeout', onTimeout);
      s.setTimeout(0);
      measureRtt(o, performance.now() - started);
      done(undefined, s);
    });
  };
  if (isIP(o.origin.address)) dial([o.origin.address], 0, undefined);
  else resolveAll(o.origin.address).then((ips) => dial(ips, 0, undefined), (err: Error) => done(err));
}

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

export interface TcpConnection {
  client: Socket;
  upstream: Socket | undefined;
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
  private readonly conns = new Map<TcpConnection, { bytes: number; since: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly idleMs: number) {
    this.timer = setInterval(() => this.sweep(), Math.max(25, Math.min(idleMs / 4, 5000)));
    this.timer.unref();
  }

  add(conn: TcpConnection): void {
    this.conns.set(conn, { bytes: 0, since: Date.now() });
  }

  delete(conn: TcpConnection): void {
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
const sweepFor = (idleMs: number): IdleSweep => {
  let s = sweeps.get(idleMs);
  if (!s) sweeps.set(idleMs, (s = new IdleSweep(idleMs)));
  return s;
};

export interface Forward {
  origin: OriginState;
  /** PROXY header to send first, if the listener asks for one. */
  header: string | undefined;
  connectTimeoutMs: number;
  /** No byte either way for this long closes both sides. */
  idleMs: number;
  /** The proxy's bandwidth per direction (in: client to origin), when capped. */
  limits: Limits | undefined;
  /** Called once, when both sockets are gone. */
  done(conn: TcpConnection): void;
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
  connectOrigin(f.origin, f.connectTimeoutMs, (err, upstream) => {
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
