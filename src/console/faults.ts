import type { CallTarget, FaultDecision, FaultPlan } from '../gateway/observe';

/**
 * Fault injection: rules that make chosen API calls answer a documented
 * error code or wait, and make a data-plane listener refuse, reset or delay
 * new connections (the data plane asks `connectionFault`). Rules live in
 * memory only.
 */

/** The error codes a product documents, per action and for every action. */
export interface FaultCatalogueEntry {
  service: string;
  protocol: 'api3' | 'cos';
  /** Action → codes its documentation lists. */
  actions: Readonly<Record<string, readonly string[]>>;
  /** Codes every action of the product may answer. */
  commonCodes: readonly string[];
}

export class FaultRuleError extends Error {}

interface Share {
  /** Next N matching calls (or connections); absent: unlimited. */
  times?: number;
  /** Share of matching calls, in (0, 1]; absent: all. */
  share?: number;
}

export interface ApiFaultRule extends Share {
  id: string;
  kind: 'api';
  service?: string;
  action?: string;
  account?: string;
  error?: { code: string; message: string };
  latencyMs: number;
  /** Calls this rule answered or delayed so far. */
  applied: number;
  createdAt: string;
}

export interface ConnectionFaultRule extends Share {
  id: string;
  kind: 'connection';
  proxyId?: string;
  listenerId?: string;
  effect: 'refuse' | 'reset' | 'delay';
  latencyMs: number;
  applied: number;
  createdAt: string;
}

export type FaultRule = ApiFaultRule | ConnectionFaultRule;

const API_FIELDS = new Set(['kind', 'service', 'action', 'account', 'error', 'message', 'latencyMs', 'times', 'share']);
const CONNECTION_FIELDS = new Set(['kind', 'proxyId', 'listenerId', 'effect', 'latencyMs', 'times', 'share']);
const MAX_LATENCY_MS = 600_000;
const MAX_RULES = 1000;

const fail = (message: string): never => {
  throw new FaultRuleError(message);
};

const optionalString = (o: Record<string, unknown>, name: string, where: string): string | undefined => {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') fail(`${where}.${name} must be a non-empty string`);
  return v as string;
};

export class FaultRules implements FaultPlan {
  private rules: FaultRule[] = [];
  /** Rules that can still touch an API call, in creation order: the hot path reads only this. */
  private apiRules: ApiFaultRule[] = [];
  /** Likewise for new data-plane connections. */
  private connectionRules: ConnectionFaultRule[] = [];
  private nextId = 1;
  /** Read when a rule is added, so products composed after the rules may still join it. */
  constructor(private readonly catalogue: readonly FaultCatalogueEntry[], private readonly random: () => number = Math.random) {}

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** Validates every rule first: either all are added or none. */
  add(input: unknown): FaultRule[] {
    const items = Array.isArray(input) ? input : [input];
    if (items.length === 0) fail('the body holds no rule');
    if (this.rules.length + items.length > MAX_RULES) fail(`at most ${MAX_RULES} fault rules may exist at once`);
    const parsed = items.map((item, i) => this.parse(item, items.length === 1 ? 'rule' : `rules[${i}]`));
    for (const rule of parsed) {
      rule.id = `fault-${this.nextId++}`;
      if (rule.kind === 'api' && rule.error && !rule.error.message) {
        rule.error.message = `${rule.error.code}: a fault injected by tclocal (rule ${rule.id}).`;
      }
      this.rules.push(rule);
    }
    this.refresh();
    return parsed.map((r) => ({ ...r }));
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    this.refresh();
    return this.rules.length < before;
  }

  clear(): number {
    const n = this.rules.length;
    this.rules = [];
    this.refresh();
    return n;
  }

  decide(t: CallTarget): FaultDecision | undefined {
    if (this.apiRules.length === 0) return undefined;
    for (const r of this.apiRules) {
      if ((r.service !== undefined && r.service !== t.service) || (r.action !== undefined && r.action !== t.action)) continue;
      if (r.account !== undefined && r.account !== t.account) continue;
      if (!this.take(r)) continue;
      return { rule: r.id, delayMs: r.latencyMs, error: r.error };
    }
    return undefined;
  }

  /**
   * For the data plane: what to do with a new connection to this listener of
   * this proxy (undefined: nothing). Consumes one use of a counted rule.
   */
  connectionFault(proxyId: string, listenerId: string): { rule: string; effect: 'refuse' | 'reset' | 'delay'; delayMs: number } | undefined {
    if (this.connectionRules.length === 0) return undefined;
    for (const r of this.connectionRules) {
      if ((r.proxyId !== undefined && r.proxyId !== proxyId) || (r.listenerId !== undefined && r.listenerId !== listenerId)) continue;
      if (!this.take(r)) continue;
      return { rule: r.id, effect: r.effect, delayMs: r.latencyMs };
    }
    return undefined;
  }

  private take(r: FaultRule): boolean {
    if (r.times !== undefined && r.applied >= r.times) return false;
    if (r.share !== undefined && r.share < 1 && this.random() >= r.share) return false;
    r.applied++;
    if (r.times !== undefined && r.applied >= r.times) this.refresh();
    return true;
  }

  private refresh(): void {
    const live = (r: FaultRule) => r.times === undefined || r.applied < r.times;
    this.apiRules = this.rules.filter((r): r is ApiFaultRule => r.kind === 'api' && live(r));
    this.connectionRules = this.rules.filter((r): r is ConnectionFaultRule => r.kind === 'connection' && live(r));
  }

  private parse(item: unknown, where: string): FaultRule {
    if (!item || typeof item !== 'object' || Array.isArray(item)) fail(`${where} must be a JSON object`);
    const o = item as Record<string, unknown>;
    const kind = o.kind ?? 'api';
    if (kind !== 'api' && kind !== 'connection') fail(`${where}.kind must be "api" or "connection", got ${JSON.stringify(kind)}`);
    const allowed = kind === 'api' ? API_FIELDS : CONNECTION_FIELDS;
    for (const k of Object.keys(o)) if (!allowed.has(k)) fail(`${where}.${k} is not a field of a ${kind} fault rule (fields: ${[...allowed].join(', ')})`);
    const latencyMs = o.latencyMs ?? 0;
    if (typeof latencyMs !== 'number' || !Number.isInteger(latencyMs) || latencyMs < 0 || latencyMs > MAX_LATENCY_MS) {
      fail(`${where}.latencyMs must be an integer from 0 to ${MAX_LATENCY_MS}`);
    }
    const share: Share = {};
    if (o.times !== undefined) {
      if (typeof o.times !== 'number' || !Number.isInteger(o.times) || o.times < 1) fail(`${where}.times must be a positive integer (the next N matching calls)`);
      share.times = o.times as number;
    }
    if (o.share !== undefined) {
      if (typeof o.share !== 'number' || !(o.share > 0 && o.share <= 1)) fail(`${where}.share must be a number above 0 and at most 1 (the share of matching calls)`);
      share.share = o.share as number;
    }
    const base = { id: '', applied: 0, createdAt: new Date().toISOString(), latencyMs: latencyMs as number, ...share };
    if (kind === 'connection') {
      const proxyId = optionalString(o, 'proxyId', where);
      const listenerId = optionalString(o, 'listenerId', where);
      if (!proxyId && !listenerId) fail(`${where} must name a proxyId or a listenerId`);
      const effect = o.effect;
      if (effect !== 'refuse' && effect !== 'reset' && effect !== 'delay') fail(`${where}.effect must be "refuse", "reset" or "delay"`);
      if (effect === 'delay' && !latencyMs) fail(`${where}: a delay needs latencyMs`);
      return { ...base, kind, proxyId, listenerId, effect: effect as ConnectionFaultRule['effect'] };
    }
    const service = optionalString(o, 'service', where);
    const action = optionalString(o, 'action', where);
    const account = optionalString(o, 'account', where);
    if (!service && !action && !account) fail(`${where} must name a service, an action or an account`);
    if (account !== undefined && !/^\d+$/.test(account)) fail(`${where}.account must be an account's uin (digits)`);
    let entry: FaultCatalogueEntry | undefined;
    if (service !== undefined) {
      entry = this.catalogue.find((c) => c.service === service);
      if (!entry) fail(`${where}.service "${service}" is not emulated (services: ${this.catalogue.map((c) => c.service).join(', ')})`);
    }
    if (action !== undefined) {
      if (!entry) fail(`${where}.action needs the service it belongs to`);
      if (!Object.hasOwn(entry!.actions, action)) fail(`${where}.action "${action}" is not an action of ${service}`);
    }
    let error: ApiFaultRule['error'];
    const rawError = o.error;
    if (rawError !== undefined && rawError !== null) {
      const code = typeof rawError === 'string' ? rawError : (rawError as { code?: unknown }).code;
      if (typeof code !== 'string' || !code) fail(`${where}.error must be an error code, or {"code", "message"}`);
      const message = o.message ?? (typeof rawError === 'object' ? (rawError as { message?: unknown }).message : undefined);
      if (message !== undefined && (typeof message !== 'string' || !message)) fail(`${where}.message must be a non-empty string`);
      this.checkCode(code as string, entry, action, where);
      error = { code: code as string, message: (message as string | undefined) ?? '' };
    } else if (o.message !== undefined) fail(`${where}.message needs an error`);
    if (!error && !latencyMs) fail(`${where} must give an error code, a latencyMs, or both`);
    return { ...base, kind: 'api', service, action, account, error };
  }

  /** The code must be one the call could really answer: documented for the action, or common to its product. */
  private checkCode(code: string, entry: FaultCatalogueEntry | undefined, action: string | undefined, where: string): void {
    if (!entry) {
      // An account-wide rule reaches every product: only codes common to all of them.
      const everywhere = this.catalogue.every((e) => e.commonCodes.includes(code));
      if (!everywhere) fail(`${where}.error "${code}" is not a code every service answers; name a service (and an action) for others`);
      return;
    }
    if (entry.commonCodes.includes(code)) return;
    if (action === undefined) {
      fail(`${where}.error "${code}" is not a common error code of ${entry.service}; name the action that documents it, or use a common code such as ${entry.commonCodes.slice(0, 3).join(', ')}`);
    }
    const documented = entry.actions[action!];
    if (!documented.includes(code)) {
      fail(`${where}.error "${code}" is not documented for ${entry.service} ${action} (documented: ${documented.join(', ') || 'none'}; common codes are accepted too)`);
    }
  }
}
