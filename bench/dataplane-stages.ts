/**
 * The stages `npm run bench:dataplane` puts beside tclocal, each in its own
 * process so that it has the event loop to itself as tclocal does:
 *
 *   pipe <pong> <iperf>        a bare `socket.pipe` TCP proxy (no policy, counters, scheduling)
 *   http-answer                Node's HTTP(S) server answering itself (what node:http costs)
 *   http-proxy <origin>        a plain Node HTTP(S) proxy with a keep-alive agent towards the origin
 *   undici-proxy <origin>      the same with an undici pool towards the origin (`dispatch`, no streams per answer)
 *   relay <pong> <iperf> <http>
 *                              tclocal's own raw-handle TCP relay alone (one process: no accept turns, policy,
 *                              scheduling or counters), in front of each origin, and for HTTPS a Node TLS server
 *                              relaying the decrypted bytes to the HTTP origin: no HTTP parsing at all, so what
 *                              any proxy written for Node could reach here at best
 *
 * Started with fork; sends its ports ({ a, b, and c, d for `relay` }) once listening. HTTPS ports
 * read the key and certificate from the files named by BENCH_KEY/BENCH_CERT.
 */
import { readFileSync } from 'node:fs';
import { Agent, createServer as createHttpServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Pool } from 'undici';
import { handleRelay, type RawTcp } from '../src/dataplane/handle-relay';
import { newOriginState } from '../src/dataplane/origins';

const listen = (s: Server): Promise<number> =>
  new Promise((res) => s.listen(0, '127.0.0.1', () => res((s.address() as AddressInfo).port)));

function pipeProxy(port: number): Server {
  return createServer({ noDelay: true }, (c) => {
    const u = connect({ host: '127.0.0.1', port, noDelay: true });
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.pipe(u);
    u.pipe(c);
  });
}

/** tclocal's raw-handle relay alone, towards one origin port: what its forwarders do per connection, and nothing else. */
async function handleRelayTo(port: number): Promise<number> {
  const relay = handleRelay;
  if (!relay) throw new Error('the runtime offers no raw TCP handles here');
  const origin = newOriginState({ realServerId: 'bench', address: '127.0.0.1', port, weight: 1, role: '', recorded: { healthy: true, downIps: [] } });
  const server = createServer();
  const at = await listen(server);
  const handle = (server as unknown as { _handle: RawTcp })._handle;
  const err = relay.listen(handle, (client) => relay.forward(client, { origin, header: undefined, connectTimeoutMs: 5000, idleMs: 300_000, done: () => undefined }));
  if (err) throw err;
  return at;
}

function tlsFiles() {
  return { key: readFileSync(process.env.BENCH_KEY!), cert: readFileSync(process.env.BENCH_CERT!) };
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  const ports = rest.map(Number);
  let a: number;
  let b: number;
  let more: Record<string, number> = {};
  if (mode === 'pipe') {
    a = await listen(pipeProxy(ports[0]));
    b = await listen(pipeProxy(ports[1]));
  } else if (mode === 'http-answer') {
    const answer = (_req: IncomingMessage, res: ServerResponse) => res.end('ok\n');
    a = await listen(createHttpServer({ keepAliveTimeout: 300_000 }, answer));
    b = await listen(createHttpsServer({ ...tlsFiles(), keepAliveTimeout: 300_000 }, answer));
  } else if (mode === 'http-proxy') {
    const agent = new Agent({ keepAlive: true, maxFreeSockets: 256 });
    const proxy = (req: IncomingMessage, res: ServerResponse) => {
      const up = request({ host: '127.0.0.1', port: ports[0], method: req.method, path: req.url, headers: req.headers, agent }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    a = await listen(createHttpServer({ keepAliveTimeout: 300_000 }, proxy));
    b = await listen(createHttpsServer({ ...tlsFiles(), keepAliveTimeout: 300_000 }, proxy));
  } else if (mode === 'undici-proxy') {
    const pool = new Pool(`http://127.0.0.1:${ports[0]}`);
    const proxy = (req: IncomingMessage, res: ServerResponse) => {
      const headers: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i].toLowerCase();
        if (name !== 'connection' && name !== 'keep-alive' && name !== 'transfer-encoding' && name !== 'expect') headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
      }
      pool.dispatch({ method: req.method!, path: req.url!, headers, body: req.method === 'GET' || req.method === 'HEAD' ? null : req }, {
        onConnect() {},
        onHeaders(status, raw, resume, text) {
          const out: string[] = [];
          for (let i = 0; i < raw.length; i += 2) {
            const name = raw[i].toString('latin1');
            const lower = name.toLowerCase();
            if (lower !== 'connection' && lower !== 'keep-alive' && lower !== 'transfer-encoding') out.push(name, raw[i + 1].toString('latin1'));
          }
          res.writeHead(status, text, out);
          res.once('drain', resume);
          return true;
        },
        onData: (chunk) => res.write(chunk),
        onComplete: () => res.end(),
        onError: () => res.destroy(),
      });
    };
    a = await listen(createHttpServer({ keepAliveTimeout: 300_000 }, proxy));
    b = await listen(createHttpsServer({ ...tlsFiles(), keepAliveTimeout: 300_000 }, proxy));
  } else if (mode === 'relay') {
    a = await handleRelayTo(ports[0]);
    b = await handleRelayTo(ports[1]);
    const tlsRelay = createTlsServer(tlsFiles(), (c) => {
      const u = connect({ host: '127.0.0.1', port: ports[2], noDelay: true });
      c.setNoDelay(true);
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
      c.pipe(u);
      u.pipe(c);
    });
    more = { c: await handleRelayTo(ports[2]), d: await listen(tlsRelay) };
  } else throw new Error(`unknown stage ${mode}`);
  process.send!({ a, b, ...more });
}

void main();
