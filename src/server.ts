import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Server } from 'node:http';
import pino, { type Logger } from 'pino';
import { tlsDir, type Config } from './config';
import { readableStream } from './core/log-format';
import { TransitionEngine } from './core/transitions';
import { Accounts } from './gateway/accounts';
import { adminHandler } from './gateway/admin';
import { Api3Gateway } from './gateway/api3/pipeline';
import { Router } from './gateway/api3/router';
import { createHttpServer, type ExtraProtocol } from './gateway/http';
import { RateLimiter } from './gateway/ratelimit';
import { acceptTls, ensureLocalCa, serverCertificate } from './gateway/tls';
import { coverageReport } from './services/coverage';
import { extraProtocols, serviceModules } from './services';
import { ciTransitions } from './services/ci';
import type { TransitionHandler } from './services/types';
import { commonErrors } from './spec';
import { RequestValidator } from './spec/validator';
import { SqliteStore } from './store/sqlite';
import type { Store } from './store/types';

export const VERSION: string = require('../../package.json').version;

export interface RunningServer {
  port: number;
  url: string;
  /** The local CA certificate clients trust for https:// (absent with --tls off). */
  caPath?: string;
  store: Store;
  log: Logger;
  stop(): Promise<void>;
}

export function openStore(config: Pick<Config, 'dataDir' | 'inMemory'>): Store {
  return new SqliteStore({ dataDir: config.dataDir, inMemory: config.inMemory });
}

/** Settings for the test harness only, not for users. */
export interface DevelopmentOptions {
  strictErrorCodes?: boolean;
  strictResponses?: boolean;
}

/**
 * Log lines go to stdout without blocking the request path: lines written
 * while one write is in flight leave together, and what is left is flushed
 * when the process exits.
 */
const defaultLogger = (config: Config): Logger => {
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY === true);
  const out = pino.destination({ dest: 1, sync: false });
  return pino({ level: config.logLevel }, pretty ? readableStream(out) : out);
};

/** Composes the emulator from its parts and starts serving. */
export async function startServer(config: Config, log: Logger = defaultLogger(config), dev: DevelopmentOptions = {}): Promise<RunningServer> {
  const store = openStore(config);
  const modules = serviceModules();
  const services = new Map(modules.map((m) => [m.spec.service, m]));
  for (const m of modules) m.prepare?.(store);
  store.dropUndeclaredFieldIndexes();

  const transitionHandlers = new Map<string, TransitionHandler>();
  for (const m of modules) {
    for (const [type, fn] of Object.entries(m.transitions ?? {})) transitionHandlers.set(`${m.spec.service}:${type}`, fn);
  }
  for (const [type, fn] of Object.entries(ciTransitions())) transitionHandlers.set(`ci:${type}`, fn);
  const transitions = new TransitionEngine(store, transitionHandlers, { mode: config.transitions }, log);
  const accounts = new Accounts(config.accounts, config.auth === 'lenient');
  const specs = modules.map((m) => m.spec);
  const protocols: ExtraProtocol[] = extraProtocols({ store, accounts, log, config, transitions });

  const api3 = new Api3Gateway({
    accounts,
    router: new Router(specs),
    validator: new RequestValidator(specs),
    limiter: new RateLimiter(),
    services,
    store,
    transitions,
    log,
    settings: { ...config, strictErrorCodes: dev.strictErrorCodes, strictResponses: dev.strictResponses },
    commonErrors: new Set(Object.keys(commonErrors)),
    serviceSettings: { sslReviewMs: config.sslReviewMs, amsAudioMs: config.amsAudioMs, gaapCreateTimeBackdate: config.gaapCreateTimeBackdate },
  });
  const admin = adminHandler({
    version: VERSION,
    services: () => [...services.keys(), ...protocols.map((p) => p.name)],
    reset: () => store.reset(),
    advanceTransitions: () => transitions.advanceAll(),
    exportState: () => store.exportState(),
    importState: async (dump) => {
      await store.importState(dump);
      transitions.start();
    },
    coverage: () => coverageReport(modules),
  });
  // TLS and plain HTTP share the port: a listener routes each connection by its first byte.
  let route: ((socket: Socket) => void) | undefined;
  const server: Server = createHttpServer({ api3, protocols, admin, log, version: VERSION, onTunnel: (socket) => (route ? route(socket) : server.emit('connection', socket)) });
  let listener: NetServer | Server = server;
  let caPath: string | undefined;
  if (config.tls) {
    const dir = tlsDir(config);
    const ca = ensureLocalCa(dir);
    caPath = ca.certPath;
    route = acceptTls(server, () => serverCertificate(dir, ca));
    listener = createNetServer(route);
  }

  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(config.port, config.host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  transitions.start();
  const port = (listener.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info({ url, services: [...services.keys(), ...protocols.map((p) => p.name)], dataDir: config.inMemory ? ':memory:' : config.dataDir, ca: caPath }, 'tclocal ready');

  return {
    port,
    url,
    caPath,
    store,
    log,
    async stop() {
      transitions.stop();
      await new Promise<void>((resolve) => {
        listener.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
    },
  };
}
