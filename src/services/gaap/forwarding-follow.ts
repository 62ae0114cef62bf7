/**
 * Follows the forwarding view commit by commit: the first read of an
 * account (and a read after an import or reset) reads it whole; after that
 * only the records a commit wrote are read again, and the views that depend
 * on them (a group's listeners when its members change, an owner's
 * listeners when its security policy changes) are patched in memory. An
 * HTTP listener's view is built from many records (its domains, rules,
 * error pages, certificates): the follower notes which ones, and a commit
 * that writes one of them reads again only the views built from it. What
 * one commit costs depends on what it changed, not on how many proxies and
 * listeners the account holds.
 */
import type { CommitRecords, ListQuery, Store, StoreTx } from '../../store/types';
import {
  FORWARDING_KINDS, groupMembers, listenerView, ownerOf, policies, proxyRecordView,
  type ForwardingListener, type ForwardingProxy, type ListenerContext, type SecurityPolicy,
} from './forwarding';
import { HTTP_KINDS, httpListenerViews, isHttpListener, type HttpListener } from './forwarding-http';
import type { L7ListenerData } from './l7/model';
import { KIND } from './kinds';

type Data = Record<string, unknown>;
type ListenerRecord = { id: string; data: L7ListenerData & Data };

/** Kinds only the HTTP view reads (its listeners' domains, rules, error pages, certificates). */
const HTTP_ONLY: readonly string[] = [...HTTP_KINDS].filter((k) => !FORWARDING_KINDS.has(k));
const POLICY_KINDS: readonly string[] = [KIND.securityPolicy, KIND.securityRule];
const NONE: ReadonlySet<string> = new Set();

/** True when the kinds a commit wrote may change a forwarding view. */
export const touchesForwarding = (kinds: Iterable<string>): boolean => {
  for (const k of kinds) if (k === '*' || FORWARDING_KINDS.has(k) || HTTP_KINDS.has(k)) return true;
  return false;
};

/** One account's state as last read. */
interface Followed {
  proxies: Map<string, ForwardingProxy>;
  /** Group id → member proxy ids. */
  members: Map<string, Set<string>>;
  /** Owner (group or proxy) id → its enforced policy. */
  policies: Map<string, SecurityPolicy>;
  /** Policies as JSON by owner, to tell which changed. */
  policyKeys: Map<string, string>;
  listeners: Map<string, ForwardingListener>;
  /** Owner (group, else proxy) id → ids of its TCP/UDP listeners. */
  byOwner: Map<string, Set<string>>;
  /** The HTTP/HTTPS listeners' views. */
  http: Map<string, HttpListener>;
  /** HTTP listener id → the records (`recordKey`) its view was built from. */
  httpReads: Map<string, Set<string>>;
  /** Record key → the HTTP listeners whose views were built from it. */
  httpReaders: Map<string, Set<string>>;
}

/** What changed in one account, with its whole state after the change (the follower's own maps: read, never modify). */
export interface ForwardingUpdate {
  account: string;
  /** True when the account was read whole. */
  whole: boolean;
  proxies: ReadonlyMap<string, ForwardingProxy>;
  listeners: ReadonlyMap<string, ForwardingListener>;
  /** Proxies read again (present, or gone when absent from `proxies`). */
  changedProxies: ReadonlySet<string>;
  /** TCP/UDP listeners whose view or whose proxies changed (present, or gone when absent from `listeners`). */
  changedListeners: ReadonlySet<string>;
  /** Every HTTP/HTTPS listener of the account, by id. */
  http: ReadonlyMap<string, HttpListener>;
  /** HTTP/HTTPS listeners read again (present, or gone when absent from `http`). */
  changedHttp: ReadonlySet<string>;
}

/** Counts for observers: how much reading the commits cost. */
export interface FollowCounts {
  /** Accounts read whole. */
  wholeReads: number;
  /** Reads of what one commit (or several coalesced) changed. */
  changeReads: number;
  /** Records read from the store by either. */
  recordsRead: number;
}

const policyKey = (p: SecurityPolicy | undefined): string => (p ? JSON.stringify(p) : '');

/** A record's key among the records a view was built from. */
const recordKey = (kind: string, id: string): string => `${kind}\u0000${id}`;

/** The transaction, noting in `read` every record it reads and every id it looks for. */
function noting(tx: StoreTx, read: Set<string>): StoreTx {
  const get = (kind: string, id: string) => {
    read.add(recordKey(kind, id));
    return tx.get(kind, id);
  };
  const list = async (kind: string, query?: ListQuery) => {
    const result = await tx.list(kind, query);
    for (const r of result.items) read.add(recordKey(kind, r.id));
    return result;
  };
  return new Proxy(tx, {
    get(target, prop) {
      if (prop === 'get') return get;
      if (prop === 'list') return list;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function add<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (set) set.add(value);
  else index.set(key, new Set([value]));
}

function remove<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

export class ForwardingFollower {
  private readonly accounts = new Map<string, Followed>();
  readonly counts: FollowCounts = { wholeReads: 0, changeReads: 0, recordsRead: 0 };

  constructor(private readonly store: Store) {}

  /** Accounts holding proxies (the ones a whole read starts from). */
  accountsWithProxies(): Promise<string[]> {
    return this.store.accountsWith(KIND.proxy);
  }

  /**
   * The account's state after commits that wrote `records` (kind → ids);
   * undefined reads the account whole.
   */
  async update(account: string, records: ReadonlyMap<string, ReadonlySet<string>> | undefined): Promise<ForwardingUpdate> {
    const known = this.accounts.get(account);
    if (!known || !records) return this.readWhole(account);
    this.counts.changeReads++;
    return this.store.transaction(account, (tx) => this.readChanges(tx, account, known, records));
  }

  private context(f: Pick<Followed, 'members' | 'policies'>): ListenerContext {
    return { members: (g) => [...(f.members.get(g) ?? [])], policy: (o) => f.policies.get(o) ?? null };
  }

  private index(f: Followed, l: ForwardingListener): void {
    f.listeners.set(l.listenerId, l);
    add(f.byOwner, ownerOf(l.groupId, l.proxyIds[0] ?? null), l.listenerId);
  }

  private unindex(f: Followed, id: string): void {
    const old = f.listeners.get(id);
    if (!old) return;
    f.listeners.delete(id);
    remove(f.byOwner, ownerOf(old.groupId, old.proxyIds[0] ?? null), id);
  }

  private async readWhole(account: string): Promise<ForwardingUpdate> {
    this.counts.wholeReads++;
    return this.store.transaction(account, async (tx) => {
      const proxyRecords = (await tx.list<Data>(KIND.proxy)).items;
      const proxies = new Map(proxyRecords.map((r) => [r.id, proxyRecordView(r)]));
      const members = new Map([...groupMembers(proxies.values())].map(([g, ids]) => [g, new Set(ids)]));
      const byOwner = await policies(tx);
      const listenerRecords = (await tx.list<L7ListenerData & Data>(KIND.listener)).items;
      this.counts.recordsRead += proxyRecords.length + listenerRecords.length + byOwner.size;
      const f: Followed = {
        proxies, members, policies: byOwner, policyKeys: new Map([...byOwner].map(([o, p]) => [o, policyKey(p)])),
        listeners: new Map(), byOwner: new Map(), http: new Map(), httpReads: new Map(), httpReaders: new Map(),
      };
      const previous = this.accounts.get(account);
      const ctx = this.context(f);
      const httpRecords: ListenerRecord[] = [];
      for (const r of listenerRecords) {
        const view = listenerView(r.id, r.data, ctx);
        if (view) this.index(f, view);
        else if (isHttpListener(r.data)) httpRecords.push(r);
      }
      await this.readHttp(tx, f, httpRecords, ctx);
      this.accounts.set(account, f);
      // Whatever was known before and is gone now changed too.
      const changedProxies = new Set([...proxies.keys(), ...(previous?.proxies.keys() ?? [])]);
      const changedListeners = new Set([...f.listeners.keys(), ...(previous?.listeners.keys() ?? [])]);
      const changedHttp = new Set([...f.http.keys(), ...(previous?.http.keys() ?? [])]);
      return { account, whole: true, proxies, listeners: f.listeners, changedProxies, changedListeners, http: f.http, changedHttp };
    });
  }

  private async readChanges(tx: StoreTx, account: string, f: Followed, records: ReadonlyMap<string, ReadonlySet<string>>): Promise<ForwardingUpdate> {
    const ids = (kind: string) => records.get(kind) ?? NONE;
    const changedListeners = new Set<string>();
    /** Groups whose members changed: their listeners take the new member list. */
    const regrouped = new Set<string>();

    const changedProxies = new Set(ids(KIND.proxy));
    for (const id of changedProxies) {
      const r = await tx.get<Data>(KIND.proxy, id);
      this.counts.recordsRead++;
      const before = f.proxies.get(id);
      const after = r && proxyRecordView(r);
      if (before?.groupId !== after?.groupId) {
        if (before?.groupId) {
          remove(f.members, before.groupId, id);
          regrouped.add(before.groupId);
        }
        if (after?.groupId) {
          add(f.members, after.groupId, id);
          regrouped.add(after.groupId);
        }
      }
      if (after) f.proxies.set(id, after);
      else f.proxies.delete(id);
      // Listeners bound through the proxy follow its state (serving, address).
      for (const owner of [id, before?.groupId, after?.groupId]) {
        if (owner) for (const lid of f.byOwner.get(owner) ?? []) changedListeners.add(lid);
      }
    }

    /** Owners whose enforced policy changed. */
    const repoliced = new Set<string>();
    if (POLICY_KINDS.some((k) => ids(k).size > 0)) {
      // A rule names its policy, not its owner, and a deleted one names nothing: the account's policies are read again (a policy per proxy or group at most).
      const fresh = await policies(tx);
      this.counts.recordsRead += fresh.size;
      for (const owner of new Set([...fresh.keys(), ...f.policies.keys()])) {
        const key = policyKey(fresh.get(owner));
        if (key !== (f.policyKeys.get(owner) ?? '')) repoliced.add(owner);
        if (key) f.policyKeys.set(owner, key);
        else f.policyKeys.delete(owner);
      }
      f.policies = fresh;
    }

    const ctx = this.context(f);
    const changedHttp = new Set<string>();
    /** HTTP listeners whose views are read again, with their records once read. */
    const stale = new Map<string, ListenerRecord | undefined>();
    for (const kind of HTTP_ONLY) {
      for (const id of ids(kind)) {
        const readers = f.httpReaders.get(recordKey(kind, id));
        if (readers) {
          for (const lid of readers) stale.set(lid, undefined);
          continue;
        }
        // A record no view was built from yet (a new domain, rule or error page) changes its listener's.
        if (f.http.size === 0) continue;
        const r = await tx.get(kind, id);
        this.counts.recordsRead++;
        if (r?.parent && f.http.has(r.parent)) stale.set(r.parent, undefined);
      }
    }
    for (const id of ids(KIND.listener)) {
      const r = await tx.get<L7ListenerData & Data>(KIND.listener, id);
      this.counts.recordsRead++;
      this.unindex(f, id);
      changedListeners.add(id);
      if (this.dropHttp(f, id)) changedHttp.add(id);
      stale.delete(id);
      if (!r) continue;
      const view = listenerView(id, r.data, ctx);
      if (view) this.index(f, view);
      else if (isHttpListener(r.data)) stale.set(id, r);
    }
    for (const owner of [...regrouped, ...repoliced]) {
      for (const lid of f.byOwner.get(owner) ?? []) {
        const l = f.listeners.get(lid);
        if (!l) continue;
        // The rest of the view comes from the listener's own record, which did not change.
        f.listeners.set(lid, { ...l, proxyIds: l.groupId ? [...ctx.members(l.groupId)] : l.proxyIds, security: ctx.policy(owner) });
        changedListeners.add(lid);
      }
    }
    // An HTTP view holds its proxies (a group's members) and its owner's policy, as a TCP listener's does.
    if (regrouped.size > 0 || repoliced.size > 0) {
      for (const [lid, v] of f.http) {
        const affected = (v.groupId && regrouped.has(v.groupId)) || repoliced.has(ownerOf(v.groupId, v.proxyIds[0] ?? null));
        // A record already read in this pass is kept.
        if (affected && !stale.has(lid)) stale.set(lid, undefined);
      }
    }
    const httpRecords: ListenerRecord[] = [];
    for (const [lid, known] of stale) {
      const r = known ?? (await tx.get<L7ListenerData & Data>(KIND.listener, lid));
      if (!known) this.counts.recordsRead++;
      changedHttp.add(lid);
      if (r) httpRecords.push(r);
      else this.dropHttp(f, lid);
    }
    await this.readHttp(tx, f, httpRecords, ctx);
    return { account, whole: false, proxies: f.proxies, listeners: f.listeners, changedProxies, changedListeners, http: f.http, changedHttp };
  }

  /** Builds these HTTP listeners' views again, noting the records each is built from. */
  private async readHttp(tx: StoreTx, f: Followed, records: readonly ListenerRecord[], ctx: ListenerContext): Promise<void> {
    for (const r of records) {
      const read = new Set<string>();
      const [view] = await httpListenerViews(noting(tx, read), [r], ctx);
      this.dropHttp(f, r.id);
      f.http.set(r.id, view);
      f.httpReads.set(r.id, read);
      for (const key of read) add(f.httpReaders, key, r.id);
      this.counts.recordsRead += read.size;
    }
  }

  /** Forgets an HTTP listener's view; false when there was none. */
  private dropHttp(f: Followed, id: string): boolean {
    for (const key of f.httpReads.get(id) ?? []) remove(f.httpReaders, key, id);
    f.httpReads.delete(id);
    return f.http.delete(id);
  }

  /** Forgets an account: its next update reads it whole. */
  forget(account: string): void {
    this.accounts.delete(account);
  }

  /** Forgets every account (after an import or reset each is read whole again). */
  forgetAll(): void {
    this.accounts.clear();
  }
}

/** Merges what several commits wrote in one account (kind → ids) into `into`. */
export function mergeRecords(into: Map<string, Set<string>>, records: ReadonlyMap<string, ReadonlySet<string>>): void {
  for (const [kind, ids] of records) {
    if (!FORWARDING_KINDS.has(kind) && !HTTP_KINDS.has(kind)) continue;
    const set = into.get(kind);
    if (set) for (const id of ids) set.add(id);
    else into.set(kind, new Set(ids));
  }
}

export type { CommitRecords };
