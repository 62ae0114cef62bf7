/**
 * TCP relaying on the runtime's own socket handles, without net.Socket: the
 * forwarder processes' path for new connections.
 *
 * A net.Socket is a full stream (readable and writable state, events,
 * timers, next-tick callbacks on close); for a connection that carries one
 * exchange and closes, building and tearing down two of them cost more CPU
 * than the kernel's work. Here each end is the libuv handle itself, read
 * into the same buffers Node would read into, with the same rules as
 * tcp.ts: the client's bytes wait until the origin accepts, both directions
 * are relayed with backpressure, an end of stream travels on its own
 * (half-close), an error on one side resets the other, and the idle sweep
 * and the counters read each end's byte counts.
 *
 * Node offers no public API for this: the handles come from the
 * `tcp_wrap` and `stream_wrap` bindings, which Node's own `net` module is
 * built on. `handleRelay` is undefined where they are missing or shaped
 * otherwise, and callers use tcp.ts's net.Socket path instead.
 */
import { isIPv6 } from 'node:net';
import { getSystemErrorMap } from 'node:util';
import { connectOrigin, sweepFor, type Dial, type Forward, type RelayEnd, type TcpConnection } from './tcp';

/** A libuv TCP handle as far as this module uses it. */
export interface RawTcp {
  onread: ((this: RawTcp, buf: ArrayBuffer | undefined) => void) | null;
  onconnection: ((status: number, client: RawTcp | undefined) => void) | null;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: object, data: Uint8Array): number;
  shutdown(req: object): number;
  connect(req: object, ip: string, port: number): number;
  connect6(req: object, ip: string, port: number): number;
  listen(backlog: number): number;
  setNoDelay(on: boolean): number;
  getpeername(out: { address?: string; port?: number }): number;
  getsockname(out: { address?: string; port?: number }): number;
  close(cb?: () => void): void;
  reset?(cb?: () => void): number;
  /** Reads go into this buffer from now on, instead of a new one per read. */
  useUserBuffer(buffer: Buffer): void;
  /** The relay end this handle belongs to. */
  end?: HandleEnd;
}

interface Req {
  handle?: RawTcp;
  oncomplete?: (status: number) => void;
  end?: HandleEnd;
  async?: boolean;
}

interface Bindings {
  newTcp(): RawTcp;
  newConnectReq(): Req;
  newWriteReq(): Req;
  newShutdownReq(): Req;
  state: Int32Array;
  readBytes: number;
  bufferOffset: number;
  lastWriteAsync: number;
  eof: number;
}

function load(): Bindings | undefined {
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const tcp = binding('tcp_wrap') as { TCP?: new (kind: number) => RawTcp; TCPConnectWrap?: new () => Req; constants?: { SOCKET?: number } };
    const stream = binding('stream_wrap') as Record<string, unknown>;
    const { TCP, TCPConnectWrap, constants } = tcp;
    const WriteWrap = stream.WriteWrap as (new () => Req) | undefined;
    const ShutdownWrap = stream.ShutdownWrap as (new () => Req) | undefined;
    const state = stream.streamBaseState;
    const [readBytes, bufferOffset, lastWriteAsync] = [stream.kReadBytesOrError, stream.kArrayBufferOffset, stream.kLastWriteWasAsync];
    if (typeof TCP !== 'function' || typeof TCPConnectWrap !== 'function' || typeof WriteWrap !== 'function' || typeof ShutdownWrap !== 'function') return undefined;
    if (!(state instanceof Int32Array) || typeof constants?.SOCKET !== 'number') return undefined;
    if (typeof readBytes !== 'number' || typeof bufferOffset !== 'number' || typeof lastWriteAsync !== 'number') return undefined;
    const probe = new TCP(constants.SOCKET);
    const complete = ['readStart', 'readStop', 'writeBuffer', 'shutdown', 'connect', 'connect6', 'listen', 'setNoDelay', 'getpeername', 'getsockname', 'close', 'useUserBuffer']
      .every((m) => typeof (probe as unknown as Record<string, unknown>)[m] === 'function');
    probe.close();
    if (!complete) return undefined;
    const socket = constants.SOCKET;
    return {
      newTcp: () => new TCP(socket),
      newConnectReq: () => new TCPConnectWrap(),
      newWriteReq: () => new WriteWrap(),
      newShutdownReq: () => new ShutdownWrap(),
      state, readBytes, bufferOffset, lastWriteAsync,
      // libuv's end-of-stream code, the same on every platform.
      eof: -4095,
    };
  } catch {
    return undefined;
  }
}

const B = load();

/**
 * A stream that has carried this much from one end is a bulk transfer: that
 * end then reads into a buffer of its own, reused for every read, instead
 * of a new one per read. The buffers freed in bursts by the collector were
 * what bulk streams spent their CPU on (page faults, when the C library
 * handed the freed memory back); short connections never get one, so idle
 * connections hold none.
 */
const BULK_BYTES = 1 << 20;
const READ_BUFFER = 64 * 1024;
/** Buffers of finished relays, for the next bulk stream. */
const spareBuffers: Buffer[] = [];
const SPARE_LIMIT = 32;

const errnoError = (errno: number, what: string): Error => {
  const [code, text] = getSystemErrorMap().get(errno) ?? ['error', 'failed'];
  return Object.assign(new Error(`${what}: ${code} ${text}`), { errno, code });
};

/** One end of a relayed connection: its handle and what it carried. */
export class HandleEnd implements RelayEnd {
  bytesRead = 0;
  bytesWritten = 0;
  /** This end's own read buffer, once it carries a bulk stream. */
  buffer: Buffer | undefined;
  /** Writes the kernel has not taken yet: the other end stops reading meanwhile. */
  private pending = 0;
  /** The peer ended its stream (or the end was closed). */
  ended = false;
  private shutdownWanted = false;
  /** A shutdown was asked of this end's handle (none when the close sent its FIN). */
  shutdownSent = false;
  shutdownDone = false;
  other!: HandleEnd;

  constructor(readonly relay: HandleRelay, readonly handle: RawTcp) {
    handle.end = this;
    handle.onread = onRead;
  }

  write(chunk: Uint8Array): void {
    const req = B!.newWriteReq();
    req.handle = this.handle;
    req.end = this;
    req.oncomplete = onWritten;
    req.async = false;
    const err = this.handle.writeBuffer(req, chunk);
    if (err !== 0) return this.relay.fail(this);
    this.bytesWritten += chunk.length;
    // Completed at once unless the kernel's buffer was full: only then does a completion follow.
    if (B!.state[B!.lastWriteAsync] !== 0 && this.pending++ === 0) this.other.handle.readStop();
  }

  written(status: number): void {
    if (status < 0) return this.relay.fail(this);
    if (--this.pending > 0 || this.relay.closed) return;
    if (!this.other.ended) this.other.handle.readStart();
    if (this.shutdownWanted) this.sendShutdown();
  }

  /** The other end's stream ended: end this one's once its writes are out. */
  shutdown(): void {
    // Both peers have ended and every write is out: closing both handles
    // sends this end's FIN as a shutdown would (nothing is left unread), and
    // spares the loop turn libuv waits for before it sends a shutdown.
    if (this.ended && this.pending === 0 && this.other.pending === 0) return this.relay.close();
    this.shutdownWanted = true;
    if (this.pending === 0) this.sendShutdown();
  }

  private sendShutdown(): void {
    if (this.shutdownSent) return;
    this.shutdownSent = true;
    const req = B!.newShutdownReq();
    req.handle = this.handle;
    req.end = this;
    req.oncomplete = onShutdown;
    const err = this.handle.shutdown(req);
    // 1: done at once; an error (the peer gone) leaves nothing to wait for.
    if (err !== 0) this.shutdownFinished();
  }

  shutdownFinished(): void {
    this.shutdownDone = true;
    this.relay.settle();
  }

  /** Reads from now on go into a buffer of this end's own. */
  ownBuffer(): void {
    this.buffer = spareBuffers.pop() ?? Buffer.allocUnsafeSlow(READ_BUFFER);
    this.handle.useUserBuffer(this.buffer);
  }

  /** As net.Socket.destroy: the connection is closed, both ends. */
  destroy(): void {
    this.relay.close();
  }
}

function onRead(this: RawTcp, buf: ArrayBuffer | undefined): void {
  const end = this.end!;
  const n = B!.state[B!.readBytes];
  if (n > 0) {
    end.bytesRead += n;
    // In the end's own buffer, the bytes stay put until written: a write the kernel does not take at once stops this end reading until it completes.
    end.other.write(buf ? new Uint8Array(buf, B!.state[B!.bufferOffset], n) : end.buffer!.subarray(0, n));
    if (!end.buffer && end.bytesRead >= BULK_BYTES && !end.relay.closed) end.ownBuffer();
  } else if (n === B!.eof) {
    end.ended = true;
    end.other.shutdown();
    end.relay.settle();
  } else if (n < 0) end.relay.fail(end);
}

function onWritten(this: Req, status: number): void {
  this.end!.written(status);
}

function onShutdown(this: Req): void {
  this.end!.shutdownFinished();
}

/** A connection relayed between a client handle and an origin handle. */
export class HandleRelay implements TcpConnection<HandleEnd> {
  client: HandleEnd;
  upstream: HandleEnd | undefined;
  countedIn = 0;
  countedOut = 0;
  closed = false;

  constructor(clientHandle: RawTcp, private readonly finished: (r: HandleRelay) => void) {
    this.client = new HandleEnd(this, clientHandle);
  }

  /** The origin accepted: relay both ways, the PROXY header first. */
  start(upstream: RawTcp, header: string | undefined): void {
    const up = new HandleEnd(this, upstream);
    this.upstream = up;
    up.other = this.client;
    this.client.other = up;
    if (header) up.write(Buffer.from(header, 'latin1'));
    this.client.handle.readStart();
    upstream.readStart();
  }

  /** Both streams ended and both shutdowns sent: the connection is over. */
  settle(): void {
    const up = this.upstream;
    if (up && this.client.ended && up.ended && this.client.shutdownDone && up.shutdownDone) this.close();
  }

  /**
   * Closes both handles. No close callbacks: the descriptors close at once and
   * nothing is read after, so the relay is finished now; a callback would be
   * one more call into JavaScript per handle.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.handle.close();
    this.upstream?.handle.close();
    this.done();
  }

  /** An error on one end: the other is reset (as from a refusing or failed peer), both are closed. */
  fail(at: HandleEnd): void {
    if (this.closed) return;
    this.closed = true;
    const other = at === this.client ? this.upstream : this.client;
    at.handle.close();
    if (other) resetHandle(other.handle);
    this.done();
  }

  /** The origin could not be reached: the client sees a reset, as from a refusing server. */
  refuse(): void {
    if (this.closed) return;
    this.closed = true;
    resetHandle(this.client.handle);
    this.done();
  }

  /** Both handles are closed: their read buffers can serve another relay. */
  private done(): void {
    recycle(this.client.buffer);
    recycle(this.upstream?.buffer);
    this.finished(this);
  }
}

function recycle(buffer: Buffer | undefined): void {
  if (buffer && spareBuffers.length < SPARE_LIMIT) spareBuffers.push(buffer);
}

function resetHandle(h: RawTcp): void {
  if (typeof h.reset !== 'function' || h.reset() !== 0) h.close();
}

const dialHandle: Dial<RawTcp> = (ip, port, timeoutMs, done) => {
  const h = B!.newTcp();
  const req = B!.newConnectReq();
  let settled = false;
  const finish = (err: Error | undefined) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (!err) return done(undefined, h);
    h.close();
    done(err);
  };
  req.oncomplete = (status: number) => finish(status < 0 ? errnoError(status, `connect ${ip}:${port}`) : undefined);
  h.setNoDelay(true);
  const timer = setTimeout(() => finish(new Error(`connect to ${ip}:${port} timed out`)), timeoutMs);
  const err = isIPv6(ip) ? h.connect6(req, ip, port) : h.connect(req, ip, port);
  if (err !== 0) finish(errnoError(err, `connect ${ip}:${port}`));
};

/** Where the raw handles are usable: listening on a handed-over handle and relaying its connections. */
export interface HandleRelaying {
  /** Listens on a bound handle; `accept` gets each new client's handle. Answers the listen's error, or undefined. */
  listen(handle: RawTcp, accept: (client: RawTcp) => void): Error | undefined;
  /** The client's address and port, and the local address it reached. */
  addresses(client: RawTcp): { ip: string; port: number; localIp: string };
  /**
   * Relays one accepted client to the chosen origin, as tcp.ts `forward` does
   * (no bandwidth caps). `f.done` may come before this returns: an origin
   * address the system refuses at once (the relay is then `closed`).
   */
  forward(client: RawTcp, f: Omit<Forward<HandleEnd>, 'limits'>): HandleRelay;
  /** Resets a client that gets no origin. */
  refuse(client: RawTcp): void;
}

export const handleRelay: HandleRelaying | undefined = B && {
  listen(handle, accept) {
    handle.onconnection = (status, client) => {
      if (status >= 0 && client) accept(client);
    };
    // Node's own default backlog.
    const err = handle.listen(511);
    return err === 0 ? undefined : errnoError(err, 'listen');
  },

  addresses(client) {
    const peer: { address?: string; port?: number } = {};
    const local: { address?: string } = {};
    client.getpeername(peer);
    client.getsockname(local);
    return { ip: peer.address ?? '', port: peer.port ?? 0, localIp: local.address ?? '' };
  },

  forward(client, f) {
    client.setNoDelay(true);
    const idle = sweepFor(f.idleMs);
    const relay = new HandleRelay(client, (r) => {
      idle.delete(r);
      f.done(r);
    });
    idle.add(relay);
    connectOrigin(f.origin, f.connectTimeoutMs, dialHandle, (err, upstream) => {
      if (err || !upstream) return relay.refuse();
      if (relay.closed) {
        upstream.close();
        return;
      }
      relay.start(upstream, f.header);
    });
    return relay;
  },

  refuse(client) {
    resetHandle(client);
  },
};
