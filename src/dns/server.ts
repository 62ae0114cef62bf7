/**
 * The DNS server: UDP and TCP on one address and port, answering for the
 * names GAAP hands out (see responder.ts for what it answers).
 *
 * Abuse is bounded: each source address gets `rateLimit` queries a second
 * (REFUSED past that), TCP connections are capped and closed when idle, and
 * no query can make the server throw.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket as TcpSocket } from 'node:net';
import type { Logger } from 'pino';
import { ConfigError } from '../core/settings';
import type { GaapDnsView } from '../services/gaap/dns-view';
import { CountryTable, plainAddress, type CountryEntry } from './client-country';
import { Responder, type Transport } from './responder';

export interface DnsSettings {
  host: string;
  /** 0 picks a free port (the same for UDP and TCP). */
  port: number;
  ttl: number;
  /** Queries a second from one source address; 0: no limit. */
  rateLimit: number;
  clientCountries: CountryEntry[];
}

export interface RunningDns {
  host: string;
  port: number;
  close(): Promise<void>;
}

const TCP_MAX_CONNECTIONS = 256;
const TCP_IDLE_MS = 10_000;
/** Source addresses remembered by the rate limiter before it starts afresh. */
const LIMITER_SOURCES = 65_536;
const REFUSED = 5;

/** Token bucket per source address. */
class SourceLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly perSecond: number) {}

  allow(source: string): boolean {
    if (this.perSecond <= 0) return true;
    const now = performance.now();
    let b = this.buckets.get(source);
    if (!b) {
      if (this.buckets.size >= LIMITER_SOURCES) this.buckets.clear();
      b = { tokens: this.perSecond, at: now };
      this.buckets.set(source, b);
    }
    b.tokens = Math.min(this.perSecond, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

/** REFUSED with the query's ID, opcode and RD, without reading further. */
function refused(query: Buffer): Buffer | null {
  if (query.length < 12 || (query[2] & 0x80) !== 0) return null;
  const out = Buffer.alloc(12);
  query.copy(out, 0, 0, 2);
  out.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x7900) | REFUSED, 2);
  return out;
}

export async function startDnsServer(settings: DnsSettings, view: GaapDnsView, log: Logger): Promise<RunningDns> {
  const unknown = settings.clientCountries.find((e) => !view.isCountryCode(e.code));
  if (unknown) {
    throw new ConfigError(`TCLOCAL_DNS_COUNTRIES: "${unknown.code}" (for ${unknown.cidr}) is not a code listed by DescribeCountryAreaMapping`);
  }
  if (isIP(settings.host) === 0) throw new ConfigError(`TCLOCAL_DNS_HOST must be an IP address, got "${settings.host}"`);
  const responder = new Responder({ view, countries: new CountryTable(settings.clientCountries), ttl: settings.ttl });
  const limiter = new SourceLimiter(settings.rateLimit);

  /** The answer for one query (null: send nothing); never throws. */
  const answer = (query: Buffer, source: string, transport: Transport): Buffer | null | Promise<Buffer | null> => {
    try {
      if (!limiter.allow(source)) return refused(query);
      const out = responder.answer(query, source, transport);
      return out instanceof Promise ? out.catch(failed) : out;
    } catch (err) {
      return failed(err);
    }
  };
  const failed = (err: unknown): null => {
    log.error({ err }, 'dns: query failed');
    return null;
  };

  const newUdp = (): Socket => {
    const socket = createSocket({ type: isIP(settings.host) === 6 ? 'udp6' : 'udp4' });
    // A failed bind is reported by bindBoth; errors are logged from then on.
    socket.once('listening', () => socket.on('error', (err) => log.error({ err }, 'dns: udp socket error')));
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      const send = (out: Buffer | null) => {
        if (!out) return;
        try {
          socket.send(out, rinfo.port, rinfo.address);
        } catch {
          // Closed while the answer was made (the server is stopping).
        }
      };
      const out = answer(msg, plainAddress(rinfo.address), 'udp');
      if (out instanceof Promise) void out.then(send);
      else send(out);
    });
    return socket;
  };

  const connections = new Set<TcpSocket>();
  const tcp: Server = createServer((socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    serveTcp(socket, answer);
  });
  tcp.maxConnections = TCP_MAX_CONNECTIONS;
  tcp.on('error', (err) => log.error({ err }, 'dns: tcp server error'));

  const { udp, port } = await bindBoth(newUdp, tcp, settings);
  return {
    host: settings.host,
    port,
    async close() {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      for (const c of connections) c.destroy();
      await closed;
    },
  };
}

/** Binds UDP, then TCP on the same port; with port 0, tries another if TCP finds that port taken. */
async function bindBoth(newUdp: () => Socket, tcp: Server, settings: DnsSettings): Promise<{ udp: Socket; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const udp = newUdp();
    const port = await new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(settings.port, settings.host, () => {
        udp.off('error', reject);
        resolve(udp.address().port);
      });
    }).catch((err) => {
      udp.close();
      throw bindError(err, settings);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, settings.host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      return { udp, port };
    } catch (err) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if (settings.port !== 0 || attempt >= 5) throw bindError(err, settings);
    }
  }
}

/**
 * The DNS port is taken, most often by another tclocal (every one defaults
 * to 4553): the emulator starts without DNS and says so (docs/dns.md).
 */
export class DnsPortInUse extends ConfigError {}

function bindError(err: unknown, settings: DnsSettings): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new DnsPortInUse(`${settings.host}:${settings.port} is already in use (another tclocal?); choose another port with --dns-port / TCLOCAL_DNS_PORT (0 picks a free one), or turn DNS off with --dns off`);
  }
  if (code === 'EADDRNOTAVAIL') return new ConfigError(`DNS: cannot listen on ${settings.host} (TCLOCAL_DNS_HOST / --dns-host)`);
  return err as Error;
}

/** DNS over TCP: two-byte length, then the message; several queries may share a connection. */
function serveTcp(socket: TcpSocket, answer: (q: Buffer, source: string, t: Transport) => Buffer | null | Promise<Buffer | null>): void {
  const source = plainAddress(socket.remoteAddress ?? '');
  let pending: Buffer = Buffer.alloc(0);
  socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  const send = (out: Buffer | null) => {
    // Not a query (shorter than a header, or a response): nothing sensible can follow on this stream.
    if (!out) return void socket.destroy();
    if (socket.destroyed) return;
    const frame = Buffer.allocUnsafe(2 + out.length);
    frame.writeUInt16BE(out.length, 0);
    out.copy(frame, 2);
    socket.write(frame);
  };
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      if (pending.length < 2 + length) break;
      const query = Buffer.from(pending.subarray(2, 2 + length));
      pending = pending.subarray(2 + length);
      const out = answer(query, source, 'tcp');
      if (out instanceof Promise) void out.then(send);
      else send(out);
    }
  });
}
