/**
 * Real sockets for the data-plane tests: small origin servers, a client that
 * sends bytes and collects the answer, and the data plane's own report.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { RunningServer } from '../../src/server';

export interface Origin {
  server: Server;
  port: number;
  /** Connections accepted so far. */
  accepted: number;
  /** First bytes of each connection (the PROXY header, when one is sent). */
  firstLines: string[];
  close(): Promise<void>;
}

/** An origin that answers each connection with `<name>:` followed by an echo of what it receives. */
export async function tcpOrigin(name: string, options: { host?: string } = {}): Promise<Origin> {
  const sockets = new Set<Socket>();
  const o: Origin = {
    server: createServer({ allowHalfOpen: true }, (s) => {
      o.accepted++;
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
      s.write(`${name}:`);
      let first = true;
      s.on('data', (d) => {
        if (first) o.firstLines.push(d.toString('latin1').split('\r\n')[0]);
        first = false;
      });
      s.pipe(s);
    }),
    port: 0,
    accepted: 0,
    firstLines: [],
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      o.server.close(() => resolve());
    }),
  };
  await new Promise<void>((resolve) => o.server.listen(0, options.host ?? '127.0.0.1', resolve));
  o.port = (o.server.address() as { port: number }).port;
  return o;
}

/** Connects, sends `payload`, half-closes, and resolves with everything received until the other side closes. */
export function exchange(host: string, port: number, payload: string | Buffer = 'ping'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    s.on('connect', () => s.end(payload));
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

/** Resolves with the name an origin answered with, or 'REFUSED' when the connection was reset or refused. */
export async function whoAnswers(host: string, port: number): Promise<string> {
  try {
    const answer = await exchange(host, port, 'x');
    return answer === '' ? 'REFUSED' : answer.split(':')[0];
  } catch {
    return 'REFUSED';
  }
}

export interface UdpOrigin {
  socket: UdpSocket;
  port: number;
  close(): Promise<void>;
}

/** A UDP origin answering each datagram with `<name>:<datagram>`; health probes `hello?` get `hello!`. */
export async function udpOrigin(name: string, options: { host?: string } = {}): Promise<UdpOrigin> {
  const socket = createSocket('udp4');
  // A reply too large for a datagram fails to send: the origin carries on.
  socket.on('error', () => undefined);
  socket.on('message', (msg, r) => {
    const text = msg.toString();
    socket.send(text === 'hello?' ? 'hello!' : `${name}:${text}`, r.port, r.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, options.host ?? '127.0.0.1', resolve));
  return { socket, port: socket.address().port, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

/** Sends one datagram from `socket` and waits for one reply (undefined after `ms`). */
export function udpAsk(socket: UdpSocket, host: string, port: number, text: string, ms = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      resolve(undefined);
    }, ms);
    const onMessage = (msg: Buffer) => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(msg.toString());
    };
    socket.on('message', onMessage);
    socket.send(text, port, host);
  });
}

export interface BoundListener {
  listenerId: string;
  protocol: string;
  port: number;
  bound: { address: string; port: number } | null;
  error: string | null;
  connections: number;
  origins: Array<{ realServerId: string; port: number; healthy: boolean; connections: number; downIps: string[] }>;
}

export async function dataplaneReport(server: RunningServer): Promise<any> {
  const res = await fetch(`${server.url}/_tclocal/dataplane`);
  assert.equal(res.status, 200);
  return res.json();
}

/** The listener as the data plane reports it on one proxy (or undefined). */
export async function boundListener(server: RunningServer, proxyId: string, listenerId: string): Promise<BoundListener | undefined> {
  const report = await dataplaneReport(server);
  for (const a of report.accounts) {
    for (const p of a.proxies) if (p.proxyId === proxyId) return p.listeners.find((l: BoundListener) => l.listenerId === listenerId);
  }
  return undefined;
}

/** Polls `check` until it returns a value that is not undefined/false (tests wait on state, never on fixed sleeps). */
export async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A listener port unlikely to be taken by anything else on the machine (the proxy's address is private to the test anyway). */
/** A port below Linux's ephemeral range (32768 and up), so no outgoing connection of another test can be holding it. */
export const randomPort = (): number => 20000 + Math.floor(Math.random() * 12000);

/** Beijing time `YYYY-MM-DD HH:MM:SS` of unix seconds, as the statistics actions take it. */
export const bj = (s: number): string => new Date((s + 8 * 3600) * 1000).toISOString().slice(0, 19).replace('T', ' ');

/** A forwarder process as GET /_tclocal/dataplane lists it. */
export interface WorkerStatus {
  pid: number | null;
  running: boolean;
  accepted: number;
  restarts: number;
  /** TCP listeners it accepts on. */
  tcpListening: number;
  /** HTTP and HTTPS listeners it accepts on. */
  httpListening: number;
}

export const workersOf = async (server: RunningServer): Promise<WorkerStatus[]> => (await dataplaneReport(server)).workers;

/** Connections the forwarders have reported accepting, all together. */
export const acceptedByWorkers = async (server: RunningServer): Promise<number> => (await workersOf(server)).reduce((n, w) => n + w.accepted, 0);
