/**
 * What a service module is, and what its handlers know of a call. These
 * types sit below the gateway (which calls handlers), the services (which
 * write them) and the transition engine (which applies their scheduled
 * changes), so none of the three imports another's internals.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { ServiceSpec } from '../spec/types';
import type { Store, StoreTx } from '../store/types';
import type { Account } from './account';
import type { BrowseKind } from './browse';
import type { OutboundGuard } from './outbound';
import type { SettingDef } from './settings';

export type Language = 'zh-CN' | 'en-US';

/**
 * The settings handlers read (`ctx.settings`). Each service module adds the
 * ones it declares to this interface (`declare module`), next to their
 * declarations; the server passes its whole configuration.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ServiceSettings {}

/** What a handler knows of the call it serves; no HTTP in sight. */
export interface ActionContext {
  readonly tx: StoreTx;
  readonly account: Account;
  readonly requestId: string;
  readonly action: string;
  /** Region named by the caller, if any. */
  readonly region?: string;
  readonly language: Language;
  /** Milliseconds since the epoch, fixed for the whole request. */
  readonly now: number;
  /** Configured behaviour of the services (review times, ...). */
  readonly settings: ServiceSettings;
  /**
   * Schedule a transition of this service to run after the configured
   * transition time (or `delayMs`), through the persistent scheduler.
   */
  later(type: string, payload: Record<string, unknown>, delayMs?: number): Promise<void>;
}

export type ActionHandler<I = any, O = any> = (input: I, ctx: ActionContext) => Promise<O> | O;

/** Applies one scheduled state change, inside its own transaction. */
export type TransitionHandler = (payload: any, tx: StoreTx, now: number) => Promise<void> | void;

// ---------------------------------------------------------------------------
// COS-style XML APIs: what a product gives the gateway, which speaks the wire format.

/** XML content to answer: objects become nested elements, arrays repeated ones, `null` an empty one. */
export type XmlValue = string | number | boolean | null | undefined | XmlObject | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

/** Parsed element content: text is a string, children an object, repeated children an array. */
export type ParsedXml = string | { [name: string]: ParsedXml } | ParsedXml[];

/** The bucket a request addresses (`<BucketName-APPID>.<service>.<Region>.myqcloud.com`). */
export interface BucketHost {
  /** Full bucket name, `<BucketName>-<APPID>`. */
  bucket: string;
  /** Bucket name without its APPID suffix. */
  bucketName: string;
  appId: number;
  /** Second label: `cos`, `ci`, ... */
  service: string;
  region: string;
  /** Host as received, port stripped and lower-cased. */
  host: string;
}

/** What a route handler knows of the call it serves. */
export interface XmlCall {
  account: Account;
  bucket: BucketHost;
  /** Route action name (for logs and rate limits). */
  action: string;
  /** Capture groups of the route's path pattern, percent-decoded. */
  params: string[];
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body as an XML document; a body that is not one is answered as InvalidArgument. */
  xmlBody(): Record<string, ParsedXml>;
  requestId: string;
  /** Milliseconds since the epoch, fixed for the whole request. */
  now: number;
}

/** A successful answer: an XML document under `root` (RequestId is appended). */
export interface XmlResult {
  status?: number;
  root: string;
  content: XmlObject;
}

export interface XmlRoute {
  method: string;
  /** Matched against the percent-decoded path. */
  path: RegExp;
  /** The path as people read it (`/video/auditing/<jobId>`), for the coverage report. */
  pattern?: string;
  action: string;
  /** Requests per second per account; absent: unlimited. */
  rateLimit?: number;
  handle(call: XmlCall): Promise<XmlResult>;
}

/** A product's COS-style XML API. */
export interface XmlApi {
  /** Second label of the bucket host it serves (`ci` for `<bucket>.ci.<region>.myqcloud.com`). */
  hostService: string;
  /** Response header carrying the request id (`x-ci-request-id`). */
  requestIdHeader: string;
  /** Value of the `Server` response header. */
  server: string;
  maxBody?: number;
  routes: XmlRoute[];
}

// ---------------------------------------------------------------------------
// Modules

/** Schedules transitions of one service from inside one transaction. */
export type Later = (type: string, payload: Record<string, unknown>, delayMs?: number) => Promise<void>;

/** The transition engine as requests see it: the one way they schedule transitions (see core/transitions.ts). */
export interface TransitionScheduler {
  /** True when transitions apply as they fall due (not only when advanced by hand). */
  readonly automatic: boolean;
  /** The transition time of a service that names none. */
  readonly delayMs: number;
  /** Runs `fn` in one transaction of `account`, with `later` to schedule transitions of `service`. */
  run<T>(account: string, service: string, now: number, fn: (tx: StoreTx, later: Later) => Promise<T> | T): Promise<T>;
}

/** What a module may use when it is built. */
export interface ModuleDeps {
  store: Store;
  transitions: TransitionScheduler;
  log: Logger;
  outbound?: OutboundGuard;
}

interface ModuleParts {
  /** Scheduled transitions, keyed by type; the engine knows them as `<service>:<type>`. */
  transitions?: Record<string, TransitionHandler>;
  /** Kinds of stored resources a person can browse (the console). */
  browse?: readonly BrowseKind[];
  /** One-time preparation of the store (indexes). */
  prepare?(store: Store): void;
  /** Views other parts of tclocal read (the DNS server's, the data plane's), by name. */
  provides?: Readonly<Record<string, (store: Store) => unknown>>;
}

/** A product behind the API 3.0 gateway. */
export interface Api3Module extends ModuleParts {
  spec: ServiceSpec;
  handlers: Record<string, ActionHandler>;
}

/** A product with a COS-style XML API. */
export interface XmlModule extends ModuleParts {
  name: string;
  xml: XmlApi;
}

export type ServiceModule = Api3Module | XmlModule;

export const isApi3Module = (m: ServiceModule): m is Api3Module => 'spec' in m;
export const moduleName = (m: ServiceModule): string => (isApi3Module(m) ? m.spec.service : m.name);

/** A product as tclocal composes it: the settings it declares and how it is built. */
export interface ServiceDefinition {
  name: string;
  /** Its settings (flags, TCLOCAL_* twins, defaults, checks); the configuration lists them with the server's own. */
  settings?: Readonly<Record<string, SettingDef>>;
  create(deps: Partial<ModuleDeps>): ServiceModule;
}
