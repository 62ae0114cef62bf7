import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import type { Server } from 'node:http';
import pino, { type Logger } from 'pino';
import { tlsDir, type Config } from './config';
import { OutboundGuard, registerOwnPort } from './core/outbound';
import { readableStream } from './core/log-format';
import { TransitionEngine } from './core/transitions';
import { Accounts } from './gateway/accounts';
import { createConsole } from './console';
import type { FaultCatalogueEntry } from './console/faults';
import { adminHandler } from './gateway/admin';
import { adminTokenFile, resolveAdminToken, type AdminAccessPolicy } from './gateway/admin-access';
import { Api3Gateway } from './gateway/api3/pipeline';
import { DataPlane } from './dataplane';
import { Router } from './gateway/api3/router';
import { DnsPortInUse, startDnsServer, type RunningDns } from './dns/server';
import { createHttpServer, HTTP_TIMEOUTS, requestTimeoutReply, type ExtraProtocol, type HttpTimeouts } from './gateway/http';
import { RateLimiter } from './gateway/ratelimit';
import { acceptTls, ensureLocalCa, serverCertificate } from './gateway/tls';
import { coverageReport } from './services/coverage';
import { serviceModules } from './services';
import { isApi3Module, moduleName, type Api3Module, type ServiceModule, type XmlModule } from './core/service';
import { createCosProtocol } from './gateway/cos/protocol';
import type { TrafficSink } from './services/gaap/forwarding';
import type { GaapDnsView } from './services/gaap/dns-view';
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
  /** The token admin endpoints require, if any; `adminTokenGenerated`: made up at start (print it). */
  adminToken?: string;
  adminTokenGenerated: boolean;
  /** The DNS server's bound address, or null when it is off. */
  dns: { host: string; port: number } | null;
  stop(): Promise<void>;
}

export function openStore(config: Pick<Config, 'dataDir' | 'inMemory'>): Store {
  return new SqliteStore({ dataDir: config.dataDir, inMemory: config.inMemory });
}

/** Settings for the test harness only, not for users. */
export interface DevelopmentOptions {
  strictErrorCodes?: boolean;
  strictResponses?: boolean;
  /** Shorter HTTP timeouts, so tests of slow clients run quickly. */
  httpTimeouts?: Partial<HttpTimeouts>;
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
  const outbound = new OutboundGuard({ allowLinkLocal: config.outboundLinkLocal, log });
  const transitions = new TransitionEngine(store, new Map(), { mode: config.transitions, delayMs: config.transitionMs }, log);
  const modules = serviceModules({ store, transitions, log, outbound });
  for (const m of modules) {
    m.prepare?.(store);
    transitions.register(moduleName(m), m.transitions ?? {});
  }
  store.dropUndeclaredFieldIndexes();
  const api3Modules = modules.filter(isApi3Module);
  const xmlModules = modules.filter((m): m is XmlModule => !isApi3Module(m));
  const services = new Map<string, Api3Module>(api3Modules.map((m) => [m.spec.service, m]));
  /** A view a module offers the other parts (the DNS server's, the data plane's). */
  const provided = <T>(name: string): T | undefined => {
    const m = modules.find((x: ServiceModule) => x.provides?.[name]);
    return m?.provides?.[name](store) as T | undefined;
  };

  const accounts = new Accounts(config.accounts, config.auth === 'lenient');
  const specs = api3Modules.map((m) => m.spec);
  const faultCatalogue: FaultCatalogueEntry[] = specs.map((s) => ({
    service: s.service, protocol: 'api3', commonCodes: Object.keys(commonErrors),
    actions: Object.fromEntries(Object.entries(s.actions).map(([name, a]) => [name, a.errors])),
  }));
  const consoleParts = createConsole({
    store, kinds: modules.flatMap((m) => m.browse ?? []), accounts: () => config.accounts.map((a) => a.uin),
    faultCatalogue, requestLogSize: config.requestLog,
    traffic: config.dataplane ? () => dataplane!.traffic() : undefined,
  });
  const protocols: ExtraProtocol[] = xmlModules.map((m) => createCosProtocol({
    ...m.xml, name: m.name, accounts, strict: config.auth === 'strict', rateLimits: config.rateLimits, log, faults: consoleParts.faults,
  }));
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
    serviceSettings: config,
    faults: consoleParts.faults,
  });
  const sink = provided<TrafficSink>('trafficSink');
  const faults = consoleParts.faults;
  const dataplane = config.dataplane && sink
    ? new DataPlane(store, sink, config, log, (proxyId, listenerId) => faults.connectionFault(proxyId, listenerId))
    : undefined;
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
    dataplane: dataplane && (() => dataplane.status()),
  });
  const { token: adminToken, generated: adminTokenGenerated } = resolveAdminToken(config);
  if (adminToken && adminTokenGenerated && !config.inMemory) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(adminTokenFile(config.dataDir), adminToken + '\n', { mode: 0o600 });
  }
  const adminAccess: AdminAccessPolicy = { listenHost: config.host, port: config.port, token: adminToken };
  const timeouts = { ...HTTP_TIMEOUTS, ...dev.httpTimeouts };
  const server: Server = createHttpServer({
    api3, protocols, admin, log, adminAccess: () => adminAccess, maxConnections: config.maxConnections, timeouts, version: VERSION,
    recorder: consoleParts.requestLog,
  });
  // TLS and plain HTTP share the port: each connection is routed by its first byte.
  let caPath: string | undefined;
  if (config.tls) {
    const dir = tlsDir(config);
    const ca = ensureLocalCa(dir);
    caPath = ca.certPath;
    acceptTls(server, () => serverCertificate(dir, ca), { afterMs: timeouts.headersMs, answer: (socket) => socket.end(requestTimeoutReply(timeouts)) });
  }
  // Sockets still being routed (or in a TLS handshake) are not the HTTP parser's yet: stop closes them too.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Every stored running listener is bound before the server answers, so health says ready only then.
  await dataplane?.start();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err) => {
    await dataplane?.stop();
    throw err;
  });
  let dns: RunningDns | undefined;
  let dnsOff = 'off';
  if (config.dns) {
    const settings = { host: config.dnsHost, port: config.dnsPort, ttl: config.dnsTtl, rateLimit: config.dnsRateLimit, clientCountries: config.dnsCountries };
    dns = await startDnsServer(settings, provided<GaapDnsView>('dnsView')!, log).catch(async (err) => {
      if (err instanceof DnsPortInUse) {
        dnsOff = `off (${settings.host}:${settings.port} in use)`;
        log.warn(`DNS is off: ${err.message}`);
        return undefined;
      }
      await dataplane?.stop();
      await new Promise((resolve) => server.close(resolve));
      await store.close();
      throw err;
    });
  }
  transitions.start();
  const port = (server.address() as AddressInfo).port;
  adminAccess.port = port;
  const releasePort = registerOwnPort(port);
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info(
    {
      url,
      console: `${url}/_tclocal/ui`,
      services: [...services.keys(), ...protocols.map((p) => p.name)],
      dataDir: config.inMemory ? ':memory:' : config.dataDir,
      ca: caPath,
      dns: dns ? `${dns.host}:${dns.port}` : dnsOff,
    },
    'tclocal ready',
  );

  return {
    port,
    url,
    caPath,
    store,
    log,
    adminToken,
    adminTokenGenerated,
    dns: dns ? { host: dns.host, port: dns.port } : null,
    async stop() {
      releasePort();
      transitions.stop();
      await dns?.close();
      await dataplane?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      await store.close();
    },
  };
}
