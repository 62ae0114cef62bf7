import { readFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import type { AccountConfig } from './core/account';
import type { ServiceSettings } from './core/service';
import { bool, ConfigError, decimal, integer, oneOf, type SettingDef } from './core/settings';
import { checkCidr, type CountryEntry } from './dns/client-country';
import { serviceSettings } from './services';

export type { AccountConfig } from './core/account';
export { ConfigError } from './core/settings';

/**
 * Every setting, once: its flag, its TCLOCAL_* environment twin, its default
 * and how it is checked. The server's own are declared here, each service
 * module declares its own (ServiceSettings); the CLI help and the README
 * table come from OPTIONS, which lists both.
 */
export interface Config extends ServiceSettings {
  host: string;
  port: number;
  dataDir: string;
  inMemory: boolean;
  accounts: AccountConfig[];
  auth: 'lenient' | 'strict';
  transitionMs: number;
  transitions: 'auto' | 'manual';
  rateLimits: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** API calls the console's request log keeps; 0: none. */
  requestLog: number;
  /** auto: readable lines on a terminal, JSON lines otherwise. */
  logFormat: 'auto' | 'pretty' | 'json';
  /** Token the admin endpoints require; empty: generated when one is needed. */
  adminToken: string;
  /** always: admin endpoints require a token even on loopback with lenient authentication. */
  adminTokenRequired: 'auto' | 'always';
  /** Connections served at once. */
  maxConnections: number;
  /** Whether callbacks may reach link-local and cloud metadata addresses (169.254/16, fe80::/10, …). */
  outboundLinkLocal: boolean;
  /** Also speak TLS on the port (the SDKs' default https://). */
  tls: boolean;
  /** Directory of the local CA and server certificate; empty: see tlsDir. */
  caDir: string;
  /** GAAP data plane: running TCP/UDP listeners forward real traffic. */
  dataplane: boolean;
  /** GAAP: loopback CIDR each proxy's address is drawn from (`a.b.c.d/n`; a /32 is one shared address). */
  dataplanePool: string;
  /** Added to listener ports below 1024 that the process may not bind. */
  dataplanePortOffset: number;
  /** Empty: each proxy's pool address. Otherwise every listener binds this address (ports mapped where they collide). */
  dataplaneHost: string;
  /** Enforce each proxy's Bandwidth and Concurrent. */
  dataplaneCaps: boolean;
  /** How often traffic counters are written to the store. */
  dataplaneFlushMs: number;
  /** Health-check intervals and timeouts are multiplied by this (tests shorten them). */
  dataplaneCheckScale: number;
  /** A UDP session without datagrams for this long is closed. */
  dataplaneUdpIdleMs: number;
  /** A TCP connection without bytes either way for this long is closed. */
  dataplaneTcpIdleMs: number;
  /** An origin that sends nothing for this long during an HTTP request gets the client a 504. */
  dataplaneHttpTimeoutMs: number;
  /** An HTTP client must send a request's head within this long, and never pause its body longer (else 408). */
  dataplaneHttpClientTimeoutMs: number;
  /** Idle keep-alive HTTP client connections are closed after this long. */
  dataplaneHttpKeepaliveMs: number;
  /** GAAP data plane: forwarder processes sharing the TCP listeners' sockets; 0: forward in the main process. */
  dataplaneWorkers: number;
  /** GAAP data plane: the first forwarder's busy share past which the others accept on listeners too, while the machine has that share of a core idle (accept-turns.ts); 0: all always accept. */
  dataplaneWorkerJoin: number;
  /** DNS server for GAAP's names (docs/dns.md). */
  dns: boolean;
  dnsHost: string;
  dnsPort: number;
  dnsTtl: number;
  dnsRateLimit: number;
  dnsCountries: CountryEntry[];
}

interface OptionDef<K extends keyof Config> extends SettingDef<Config[K]> {
  key: K;
}

/** `a.b.c.d/n` inside 127.0.0.0/8 (a bare address is a /32). */
function loopbackPool(raw: string, name: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(raw.trim());
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const bits = m?.[5] === undefined ? 32 : Number(m[5]);
  if (!m || octets.some((o) => o > 255) || bits < 8 || bits > 32 || octets[0] !== 127) {
    throw new ConfigError(`${name} must be a loopback address or CIDR inside 127.0.0.0/8 (e.g. 127.77.0.0/16), got "${raw}"`);
  }
  return `${octets.join('.')}/${bits}`;
}

/** Linux routes all of 127/8 to the loopback interface; elsewhere only 127.0.0.1 is sure to exist. */
const DEFAULT_POOL = process.platform === 'linux' ? '127.77.0.0/16' : '127.0.0.1/32';

/** The account every unsigned request, and every client configured with these keys, uses. */
export const DEFAULT_ACCOUNT: AccountConfig = {
  secretId: 'AKIDTCLOCAL000000000000000000000000',
  secretKey: 'tclocal-default-secret-key',
  appId: 1250000000,
  uin: '100000000001',
};

/** A setting given as JSON text (starting with `opener`) or as the path of a file holding it. */
function jsonSetting(raw: string, name: string, opener: string, what: string): unknown {
  let text = raw.trim();
  if (!text.startsWith(opener)) {
    try {
      text = readFileSync(text, 'utf8');
    } catch (err) {
      throw new ConfigError(`${name}: cannot read ${what} file "${raw}": ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${name} is not valid JSON: ${(err as Error).message}`);
  }
}

function parseAccounts(raw: string, name: string): AccountConfig[] {
  if (!raw.trim()) return [DEFAULT_ACCOUNT];
  const list = jsonSetting(raw, name, '[', 'accounts');
  if (!Array.isArray(list) || list.length === 0) throw new ConfigError(`${name} must be a non-empty JSON array of accounts`);
  const seen = new Set<string>();
  return list.map((a, i) => {
    const where = `${name}[${i}]`;
    if (!a || typeof a !== 'object') throw new ConfigError(`${where} must be an object`);
    const { secretId, secretKey, appId, uin } = a as Record<string, unknown>;
    if (typeof secretId !== 'string' || !secretId) throw new ConfigError(`${where}.secretId must be a non-empty string`);
    if (typeof secretKey !== 'string' || !secretKey) throw new ConfigError(`${where}.secretKey must be a non-empty string`);
    const appIdNum = Number(appId);
    if (!Number.isInteger(appIdNum) || appIdNum <= 0) throw new ConfigError(`${where}.appId must be a positive integer`);
    if (!/^\d+$/.test(String(uin ?? ''))) throw new ConfigError(`${where}.uin must be a numeric string`);
    if (seen.has(secretId)) throw new ConfigError(`${where}.secretId "${secretId}" appears twice`);
    seen.add(secretId);
    return { secretId, secretKey, appId: appIdNum, uin: String(uin) };
  });
}

/** `{"CIDR": "NationCountryInnerCode", …}` (empty: no client has a country); the codes are checked against GAAP's catalogue when the DNS server starts. */
function parseCountryTable(raw: string, name: string): CountryEntry[] {
  if (!raw.trim()) return [];
  const obj = jsonSetting(raw, name, '{', 'country table');
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new ConfigError(`${name} must be a JSON object of "CIDR": "NationCountryInnerCode"`);
  return Object.entries(obj as Record<string, unknown>).map(([cidr, code]) => {
    if (!checkCidr(cidr)) throw new ConfigError(`${name}: "${cidr}" is not a CIDR (address/prefix)`);
    if (typeof code !== 'string' || !/^\d+$/.test(code)) throw new ConfigError(`${name}: the code of "${cidr}" must be a numeric string`);
    return { cidr: cidr.trim(), code };
  });
}

const SERVER_OPTIONS: OptionDef<keyof Config>[] = [
  { key: 'host', flag: '--host', env: 'TCLOCAL_HOST', arg: 'ADDR', default: '127.0.0.1', help: 'Address to listen on.', parse: (r) => r },
  { key: 'port', flag: '--port', env: 'TCLOCAL_PORT', arg: 'N', default: '4577', help: 'Port for every API (0 picks a free one).', parse: integer(0, 65535) },
  { key: 'dataDir', flag: '--data-dir', env: 'TCLOCAL_DATA_DIR', arg: 'DIR', default: './.tclocal', help: 'Directory of the durable SQLite store.', parse: (r) => r },
  { key: 'inMemory', flag: '--in-memory', env: 'TCLOCAL_IN_MEMORY', arg: 'on|off', default: 'off', help: 'Keep state in memory only (lost on exit).', parse: bool },
  {
    key: 'accounts', flag: '--accounts', env: 'TCLOCAL_ACCOUNTS', arg: 'JSON|FILE', default: '', defaultLabel: '(built-in account)',
    help: 'Accounts: a JSON array of {secretId,secretKey,appId,uin}, or a file holding one. Empty: the built-in default account.',
    parse: parseAccounts,
  },
  { key: 'auth', flag: '--auth', env: 'TCLOCAL_AUTH', arg: 'lenient|strict', default: 'lenient', help: 'lenient: unknown SecretIds get their own tenant unchecked and unsigned requests use the default account; strict: both are refused.', parse: oneOf('lenient', 'strict') },
  { key: 'transitionMs', flag: '--transition-ms', env: 'TCLOCAL_TRANSITION_MS', arg: 'MS', default: '1000', help: 'Time a resource spends in a transient status (0: at once).', parse: integer(0, 86_400_000) },
  { key: 'transitions', flag: '--transitions', env: 'TCLOCAL_TRANSITIONS', arg: 'auto|manual', default: 'auto', help: 'manual: transient statuses complete only on POST /_tclocal/transitions/advance.', parse: oneOf('auto', 'manual') },
  { key: 'rateLimits', flag: '--rate-limits', env: 'TCLOCAL_RATE_LIMITS', arg: 'on|off', default: 'on', help: 'Enforce the documented per-action rate limits.', parse: bool },
  {
    key: 'requestLog', flag: '--request-log', env: 'TCLOCAL_REQUEST_LOG', arg: 'N', default: '100',
    help: 'API calls the request log keeps for the console and GET /_tclocal/requests (0: none; more costs CPU on every call, see BENCHMARKS.md).', parse: integer(0, 100_000),
  },
  {
    key: 'adminToken', flag: '--admin-token', env: 'TCLOCAL_ADMIN_TOKEN', arg: 'TOKEN', default: '', defaultLabel: '(generated when needed)',
    help: 'Token the /_tclocal/ admin endpoints require (Authorization: Bearer). Empty: one is generated and printed when strict auth is on, when listening beyond loopback, or with --admin-token-required always.',
    parse: (raw, name) => {
      if (/[^\x21-\x7e]/.test(raw)) throw new ConfigError(`${name} may hold printable ASCII characters only`);
      return raw;
    },
  },
  { key: 'adminTokenRequired', flag: '--admin-token-required', env: 'TCLOCAL_ADMIN_TOKEN_REQUIRED', arg: 'auto|always', default: 'auto', help: 'always: admin endpoints require the token in every mode.', parse: oneOf('auto', 'always') },
  { key: 'maxConnections', flag: '--max-connections', env: 'TCLOCAL_MAX_CONNECTIONS', arg: 'N', default: '1024', help: 'Connections served at once; more are closed on arrival.', parse: integer(1, 1_000_000) },
  { key: 'outboundLinkLocal', flag: '--outbound-link-local', env: 'TCLOCAL_OUTBOUND_LINK_LOCAL', arg: 'on|off', default: 'off', help: 'Let callbacks reach link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, 100.100.100.200, fd00:ec2::254).', parse: bool },
  {
    key: 'logFormat', flag: '--log-format', env: 'TCLOCAL_LOG_FORMAT', arg: 'auto|pretty|json', default: 'auto',
    help: 'pretty: one readable line per request; json: JSON lines; auto: pretty on a terminal, json otherwise.',
    parse: oneOf('auto', 'pretty', 'json'),
  },
  { key: 'tls', flag: '--tls', env: 'TCLOCAL_TLS', arg: 'on|off', default: 'on', help: 'Also serve TLS (https://) on the same port, with certificates from a local CA.', parse: bool },
  {
    key: 'caDir', flag: '--ca-dir', env: 'TCLOCAL_CA_DIR', arg: 'DIR', default: '', defaultLabel: '(the data directory)',
    help: 'Where the local CA lives (tls/ca.pem). Empty: the data directory, or ~/.tclocal with --in-memory.',
    parse: (r) => r,
  },
  { key: 'dns', flag: '--dns', env: 'TCLOCAL_DNS', arg: 'on|off', default: 'on', help: 'Serve DNS for GAAP proxy, group and global domains (docs/dns.md).', parse: bool },
  { key: 'dnsHost', flag: '--dns-host', env: 'TCLOCAL_DNS_HOST', arg: 'ADDR', default: '127.0.0.1', help: 'DNS: IP address to listen on (UDP and TCP).', parse: (r) => r },
  { key: 'dnsPort', flag: '--dns-port', env: 'TCLOCAL_DNS_PORT', arg: 'N', default: '4553', help: 'DNS: port, UDP and TCP (0 picks a free one).', parse: integer(0, 65535) },
  { key: 'dnsTtl', flag: '--dns-ttl', env: 'TCLOCAL_DNS_TTL', arg: 'S', default: '60', help: 'DNS: TTL of answers and of negative answers, in seconds.', parse: integer(0, 86_400) },
  { key: 'dnsRateLimit', flag: '--dns-rate-limit', env: 'TCLOCAL_DNS_RATE_LIMIT', arg: 'N', default: '5000', help: 'DNS: queries a second from one source address; past it, REFUSED (0: no limit).', parse: integer(0, 10_000_000) },
  {
    key: 'dnsCountries', flag: '--dns-countries', env: 'TCLOCAL_DNS_COUNTRIES', arg: 'JSON|FILE', default: '{"0.0.0.0/0": "101001", "::/0": "101001"}',
    help: 'DNS: {"CIDR": "NationCountryInnerCode", ...} (or a file holding it): the country of a client\'s address (or EDNS client subnet), longest prefix first.',
    parse: parseCountryTable,
  },
  { key: 'logLevel', flag: '--log-level', env: 'TCLOCAL_LOG_LEVEL', arg: 'LEVEL', default: 'info', help: 'fatal, error, warn, info, debug, trace or silent.', parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent') },
  { key: 'dataplane', flag: '--dataplane', env: 'TCLOCAL_DATAPLANE', arg: 'on|off', default: 'on', help: 'GAAP: running TCP/UDP listeners accept connections and forward them to their real servers.', parse: bool },
  {
    key: 'dataplanePool', flag: '--dataplane-pool', env: 'TCLOCAL_DATAPLANE_POOL', arg: 'CIDR', default: DEFAULT_POOL,
    help: 'GAAP: loopback range each proxy\'s address (its IP in the API) is drawn from; a single address is shared by every proxy, with ports mapped.',
    parse: loopbackPool,
  },
  { key: 'dataplanePortOffset', flag: '--dataplane-port-offset', env: 'TCLOCAL_DATAPLANE_PORT_OFFSET', arg: 'N', default: '10000', help: 'GAAP: listener ports below 1024 that may not be bound are bound at port + N.', parse: integer(0, 64511) },
  {
    key: 'dataplaneHost', flag: '--dataplane-host', env: 'TCLOCAL_DATAPLANE_HOST', arg: 'ADDR', default: '',
    help: 'GAAP: bind every listener on this address instead of its proxy\'s loopback address (ports mapped where they collide).',
    parse: (r) => r.trim(),
  },
  { key: 'dataplaneCaps', flag: '--dataplane-caps', env: 'TCLOCAL_DATAPLANE_CAPS', arg: 'on|off', default: 'on', help: 'GAAP: enforce each proxy\'s Bandwidth (Mbps per direction) and Concurrent (connections); off for throughput tests.', parse: bool },
  { key: 'dataplaneFlushMs', flag: '--dataplane-flush-ms', env: 'TCLOCAL_DATAPLANE_FLUSH_MS', arg: 'MS', default: '5000', help: 'GAAP: how often traffic counters are written to the store.', parse: integer(50, 60_000) },
  { key: 'dataplaneCheckScale', flag: '--dataplane-check-scale', env: 'TCLOCAL_DATAPLANE_CHECK_SCALE', arg: 'X', default: '1', help: 'GAAP: health-check intervals (DelayLoop) and timeouts (ConnectTimeout) are multiplied by X (below 1 to speed tests up).', parse: decimal(0.001, 1) },
  { key: 'dataplaneTcpIdleMs', flag: '--dataplane-tcp-idle-ms', env: 'TCLOCAL_DATAPLANE_TCP_IDLE_MS', arg: 'MS', default: '900000', help: 'GAAP: a TCP connection that carries no byte either way for this long is closed (half-open and silent peers do not pile up).', parse: integer(100, 86_400_000) },
  { key: 'dataplaneHttpTimeoutMs', flag: '--dataplane-http-timeout-ms', env: 'TCLOCAL_DATAPLANE_HTTP_TIMEOUT_MS', arg: 'MS', default: '60000', help: 'GAAP: an origin that sends nothing for this long during an HTTP/HTTPS request gets the client a 504.', parse: integer(100, 3_600_000) },
  { key: 'dataplaneHttpClientTimeoutMs', flag: '--dataplane-http-client-timeout-ms', env: 'TCLOCAL_DATAPLANE_HTTP_CLIENT_TIMEOUT_MS', arg: 'MS', default: '60000', help: 'GAAP: an HTTP/HTTPS client must send a request\'s head within this long, and may not pause its body longer; else 408.', parse: integer(100, 3_600_000) },
  { key: 'dataplaneHttpKeepaliveMs', flag: '--dataplane-http-keepalive-ms', env: 'TCLOCAL_DATAPLANE_HTTP_KEEPALIVE_MS', arg: 'MS', default: '75000', help: 'GAAP: an idle keep-alive connection of an HTTP/HTTPS client is closed after this long.', parse: integer(100, 3_600_000) },
  {
    key: 'dataplaneWorkers', flag: '--dataplane-workers', env: 'TCLOCAL_DATAPLANE_WORKERS', arg: 'N|auto', default: '0',
    help: 'GAAP: forwarder processes that accept on the TCP listeners\' sockets beside the main process (auto: one per CPU; 0: the main process forwards alone). Needs --dataplane-caps off.',
    parse: (raw, name) => {
      if (raw.trim() === 'auto') return availableParallelism();
      if (!/^\d+$/.test(raw.trim()) || Number(raw) > 64) throw new ConfigError(`${name} must be auto or an integer from 0 to 64, got "${raw}"`);
      return Number(raw);
    },
  },
  {
    key: 'dataplaneWorkerJoin', flag: '--dataplane-worker-join', env: 'TCLOCAL_DATAPLANE_WORKER_JOIN', arg: 'X', default: '0.9',
    help: 'GAAP: with forwarder processes, the first one accepts on the listeners alone until its event loop is busy more than this share of the time (0 to 1) while the machine has that share of a core idle, or, for HTTP and HTTPS, while keep-alive clients keep it that busy; the others then accept on the listeners taking traffic until the load has passed, and keep-alive clients beyond the first one\'s share are asked to connect again (0: every forwarder always accepts).',
    parse: decimal(0, 1),
  },
  { key: 'dataplaneUdpIdleMs', flag: '--dataplane-udp-idle-ms', env: 'TCLOCAL_DATAPLANE_UDP_IDLE_MS', arg: 'MS', default: '120000', help: 'GAAP: a UDP session that carries no datagram for this long is closed.', parse: integer(100, 86_400_000) },
];

/** The server's settings with each service module's own after the transition and rate-limit ones. */
export const OPTIONS: OptionDef<keyof Config>[] = (() => {
  const at = SERVER_OPTIONS.findIndex((o) => o.key === 'rateLimits') + 1;
  const modules = serviceSettings().map(([key, def]) => ({ ...def, key }) as OptionDef<keyof Config>);
  return [...SERVER_OPTIONS.slice(0, at), ...modules, ...SERVER_OPTIONS.slice(at)];
})();

/**
 * Settings from flags, then environment, then defaults. Throws ConfigError
 * naming the flag or variable at fault.
 */
export function loadConfig(flags: Record<string, string> = {}, env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const config: Partial<Config> = {};
  for (const opt of OPTIONS) {
    if (opt.key in overrides) continue;
    const fromFlag = flags[opt.flag];
    const fromEnv = env[opt.env];
    const [raw, name] = fromFlag !== undefined ? [fromFlag, opt.flag] : fromEnv !== undefined ? [fromEnv, opt.env] : [opt.default, opt.env];
    (config as Record<string, unknown>)[opt.key] = opt.parse(raw, name);
  }
  const loaded = { ...(config as Config), ...overrides };
  checkCombination(loaded);
  return loaded;
}

/** Settings that are each valid but not together. */
function checkCombination(c: Config): void {
  if (c.dataplane && c.dataplaneWorkers > 0 && c.dataplaneCaps) {
    // A proxy's Bandwidth and Concurrent are one budget; forwarder processes do not share memory to keep it.
    throw new ConfigError('--dataplane-workers (TCLOCAL_DATAPLANE_WORKERS) above 0 needs --dataplane-caps off (TCLOCAL_DATAPLANE_CAPS=off): forwarder processes cannot enforce a proxy\'s shared Bandwidth and Concurrent caps');
  }
}

/** The directory holding the local CA: --ca-dir, else the data directory, else (in memory) ~/.tclocal. */
export function tlsDir(config: Pick<Config, 'caDir' | 'dataDir' | 'inMemory'>): string {
  if (config.caDir) return config.caDir;
  return config.inMemory ? join(homedir(), '.tclocal') : config.dataDir;
}

/** Splits `--name value` / `--name=value` pairs; unknown flags are an error. */
export function parseFlags(argv: string[]): Record<string, string> {
  const known = new Set(OPTIONS.map((o) => o.flag));
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!known.has(flag)) throw new ConfigError(`unknown option ${flag} (see --help)`);
    const isSwitch = OPTIONS.find((o) => o.flag === flag)?.parse === bool;
    let value = eq > 0 ? arg.slice(eq + 1) : isSwitch && (argv[i + 1] === undefined || argv[i + 1].startsWith('--')) ? 'on' : argv[++i];
    if (value === undefined) throw new ConfigError(`${flag} needs a value`);
    out[flag] = value;
  }
  return out;
}
