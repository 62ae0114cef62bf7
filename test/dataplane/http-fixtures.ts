/**
 * Pieces for tests of HTTP/HTTPS listeners at the byte level: an origin
 * whose behaviour each request picks by its path, a raw client that writes
 * bytes and reads until the proxy closes, and the GAAP calls that set up a
 * proxy, a listener and a rule.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { RunningServer } from '../../src/server';
import { runningProxy, servedPort } from '../support/running-proxy';
import { randomPort } from './fixtures';

export interface ScriptedOrigin {
  server: Server;
  port: number;
  /** Request targets received, in order. */
  seen: string[];
  /** Requests whose body was cut before its end. */
  aborted: number;
  /** While set, `/hold` requests wait until `release()`. */
  holding: boolean;
  release(): void;
  /** Added before every answer (ms). */
  delayMs: number;
  /** While set, every request but `/health` is reset unanswered. */
  failing: boolean;
  /** While set, a request on a connection that already carried one is reset unanswered (a keep-alive close racing the reuse). */
  oneShot: boolean;
  close(): Promise<void>;
}

/**
 * An origin answering `<name> <url> <body bytes>` after reading the body.
 * `/slow/N` answers after N ms; `/hang` never answers; `/reset` resets the
 * connection without answering; `/reset-mid` and `/hang-mid` send the head
 * and part of a longer body, then reset or fall silent.
 */
export async function scriptedOrigin(name: string): Promise<ScriptedOrigin> {
  const sockets = new Set<Socket>();
  let waiting: Array<() => void> = [];
  const servedOn = new WeakMap<Socket, number>();
  const o: ScriptedOrigin = {
    server: createServer((req: IncomingMessage, res) => {
      const url = req.url ?? '';
      const served = (servedOn.get(req.socket) ?? 0) + 1;
      servedOn.set(req.socket, served);
      if (o.oneShot && served > 1) return req.socket.resetAndDestroy();
      o.seen.push(url);
      let bytes = 0;
      req.on('data', (d: Buffer) => (bytes += d.length));
      req.on('aborted', () => o.aborted++);
      req.on('end', () => {
        const answer = () => {
          if (url === '/hang') return;
          if (url === '/reset' || (o.failing && url !== '/health')) return req.socket.resetAndDestroy();
          if (url === '/reset-mid' || url === '/hang-mid') {
            res.writeHead(200, { 'content-length': 1000 });
            res.write('partial');
            if (url === '/reset-mid') setTimeout(() => req.socket.resetAndDestroy(), 20);
            return;
          }
          res.setHeader('content-type', 'text/plain');
          res.end(`${name} ${url} ${bytes}`);
        };
        const slow = /^\/slow\/(\d+)/.exec(url);
        const wait = (slow ? Number(slow[1]) : 0) + o.delayMs;
        const go = () => (wait > 0 ? setTimeout(answer, wait) : answer());
        if (url.startsWith('/hold') && o.holding) waiting.push(go);
        else go();
      });
    }),
    port: 0,
    seen: [],
    aborted: 0,
    holding: false,
    delayMs: 0,
    failing: false,
    oneShot: false,
    release: () => {
      o.holding = false;
      const list = waiting;
      waiting = [];
      for (const f of list) f();
    },
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      o.server.close(() => resolve());
    }),
  };
  o.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => o.server.listen(0, '127.0.0.1', resolve));
  o.port = (o.server.address() as { port: number }).port;
  return o;
}

export interface RawAnswer {
  /** Everything the proxy sent. */
  text: string;
  /** The proxy closed (or reset) the connection; false: still open when the wait ended. */
  closed: boolean;
  /** Milliseconds from connecting to the close (or to the end of the wait). */
  ms: number;
}

/**
 * Connects, writes each part in turn (`pauseMs` apart), then reads until the
 * proxy closes the connection or `waitMs` passes.
 */
export function rawExchange(host: string, port: number, parts: Array<string | Buffer>, options: { waitMs?: number; pauseMs?: number } = {}): Promise<RawAnswer> {
  const waitMs = options.waitMs ?? 10_000;
  return new Promise((resolve) => {
    const started = Date.now();
    const s = connect({ host, port });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
    s.on('connect', async () => {
      for (let i = 0; i < parts.length; i++) {
        if (i > 0 && options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
        if (s.destroyed) return;
        s.write(parts[i]);
      }
    });
  });
}

/** The status line's code of each answer in `text`, in order. */
export const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

export interface L7Setup {
  proxyId: string;
  ip: string;
  listenerId: string;
  port: number;
}

/** A proxy (Concurrent 2, i.e. 20,000 connections) with one HTTP listener, bound. */
export async function httpListener(server: RunningServer, gaap: any, protocol: 'HTTP' = 'HTTP'): Promise<L7Setup> {
  const { proxyId, ip } = await runningProxy(gaap, 'l7');
  const { ListenerId: listenerId } = await gaap[`Create${protocol}Listener`]({ ProxyId: proxyId, ListenerName: 'web', Port: randomPort() });
  return { proxyId, ip, listenerId, port: await servedPort(server, proxyId, listenerId) };
}

/** A rule on `domain` `/` with the origins on 127.0.0.1 at `ports` (weights 1 unless given). */
export async function httpRule(gaap: any, rsId: string, listenerId: string, domain: string, ports: Array<number | [number, number]>, extra: Record<string, unknown> = {}): Promise<string> {
  const { RuleId } = await gaap.CreateRule({ ListenerId: listenerId, Domain: domain, Path: '/', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 0, ...extra });
  await gaap.BindRuleRealServers({
    RuleId,
    RealServerBindSet: ports.map((p) => ({ RealServerId: rsId, RealServerIP: '127.0.0.1', RealServerPort: Array.isArray(p) ? p[0] : p, RealServerWeight: Array.isArray(p) ? p[1] : 1 })),
  });
  return RuleId;
}

/** The first answer in `text` (as the proxy sent it, one answer): its status, headers (lower-case names) and all that follows its head. */
export function parseAnswer(text: string): { status: number; headers: Record<string, string>; body: string } {
  const at = text.indexOf('\r\n\r\n');
  const head = at >= 0 ? text.slice(0, at) : '';
  const headers = Object.fromEntries(head.split('\r\n').slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: statuses(text)[0] ?? 0, headers, body: at >= 0 ? text.slice(at + 4) : '' };
}

/** One GET over a fresh connection: the status and body. */
export async function getOnce(ip: string, port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  const { status, body } = parseAnswer((await rawExchange(ip, port, [`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`])).text);
  return { status, body };
}
