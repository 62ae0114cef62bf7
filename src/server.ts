import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import pino, { type Logger } from 'pino';
import type { Config } from './config';
import { TransitionEngine } from './core/transitions';
import { Accounts } from './gateway/accounts';
import { createConsole } from './console';
import type { FaultCatalogueEntry } from './console/faults';
import { adminHandler } from './gateway/admin';
import { Api3Gateway } from './gateway/api3/pipeline';
import { Router } from './gateway/api3/router';
import { createHttpServer, type ExtraProtocol } from './gateway/http';
import { RateLimiter } from './gateway/ratelimit';
import { coverageReport } from './services/coverage';
import { browsableKinds, extraProtocols, serviceModules } from './services';
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
const defaultLogger = (config: Config): Logger => pino({ level: config.logLevel }, pino.destination({ dest: 1, sync: false }));

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
  const faultCatalogue: FaultCatalogueEntry[] = specs.map((s) => ({
    service: s.service, protocol: 'api3', commonCodes: Object.keys(commonErrors),
    actions: Object.fromEntries(Object.entries(s.actions).map(([name, a]) => [name, a.errors])),
  }));
  const consoleParts = createConsole({
    store, kinds: browsableKinds(), accounts: () => config.accounts.map((a) => a.uin),
    faultCatalogue, requestLogSize: config.requestLog,
  });
  const protocols: ExtraProtocol[] = extraProtocols({ store, accounts, log, config, transitions, faults: consoleParts.faults });
  for (const p of protocols) {
    faultCatalogue.push({
      service: p.name, protocol: 'cos', commonCodes: p.catalogue.errorCodes,
      actions: Object.fromEntries(p.catalogue.actions.map((a) => [a, p.catalogue.errorCodes])),
    });
  }

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
    faults: consoleParts.faults,
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
    routes: consoleParts.routes,
  });
  const server: Server = createHttpServer({ api3, protocols, admin, log, recorder: consoleParts.requestLog });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  transitions.start();
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info({ url, console: `${url}/_tclocal/ui`, services: [...services.keys(), ...protocols.map((p) => p.name)], dataDir: config.inMemory ? ':memory:' : config.dataDir }, 'tclocal ready');

  return {
    port,
    url,
    store,
    log,
    async stop() {
      transitions.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
    },
  };
}
