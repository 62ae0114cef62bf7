import type { BrowseKind } from '../services/browse';
import type { ResourceRecord, ScheduledTransition, Store } from '../store/types';
import { maskValue } from './mask';
import type { PendingTransition, ResourceRow } from './wire';

/**
 * Read-only browsing of every account's stored resources, through the
 * store's own interface and the kinds the products declare: pages and
 * filters run in the store, so a list of 10,000 proxies costs one page.
 */

export interface BrowseQuery {
  offset?: number;
  limit?: number;
  /** Substring of the id or of the kind's search fields. */
  q?: string;
  status?: string;
  parent?: string;
}

export class BrowseError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const MAX_PAGE = 200;
const CHILDREN_SHOWN = 50;
const PENDING_READ = 5000;

export class ResourceBrowser {
  private readonly kinds: Map<string, BrowseKind>;

  constructor(
    private readonly store: Store,
    kinds: readonly BrowseKind[],
    /** Accounts known without holding anything (the configured ones). */
    private readonly knownAccounts: () => string[],
  ) {
    this.kinds = new Map(kinds.map((k) => [k.kind, k]));
  }

  async inventory(): Promise<{ kinds: BrowseKind[]; accounts: Array<{ account: string; counts: Record<string, number>; pending: number }> }> {
    const counts = new Map<string, Record<string, number>>();
    for (const a of this.knownAccounts()) counts.set(a, {});
    for (const row of await this.store.inventory()) {
      if (!this.kinds.has(row.kind)) continue;
      if (!counts.has(row.account)) counts.set(row.account, {});
      counts.get(row.account)![row.kind] = row.count;
    }
    const accounts = [];
    for (const [account, c] of counts) accounts.push({ account, counts: c, pending: (await this.store.pendingTransitions(account, PENDING_READ)).length });
    return { kinds: [...this.kinds.values()], accounts };
  }

  async list(kind: string, account: string, q: BrowseQuery): Promise<{ total: number; offset: number; limit: number; items: ResourceRow[] }> {
    const k = this.kind(kind);
    const offset = q.offset ?? 0;
    const limit = Math.min(q.limit ?? 50, MAX_PAGE);
    const { total, items } = await this.store.transaction(account, (tx) =>
      tx.list(kind, {
        offset, limit,
        ...(q.q ? { search: { text: q.q, fields: k.searchFields } } : {}),
        ...(q.status ? { statusIn: [q.status] } : {}),
        ...(q.parent ? { parent: q.parent } : {}),
      }),
    );
    const pending = await this.pendingByResource(account);
    return { total, offset, limit, items: items.map((r) => this.row(k, r, pending)) };
  }

  async detail(kind: string, account: string, id: string): Promise<Record<string, unknown>> {
    const k = this.kind(kind);
    const record = await this.store.transaction(account, (tx) => tx.get(kind, id));
    if (!record) throw new BrowseError(404, `${k.title}: no ${id} in account ${account}`);
    const pending = await this.pendingByResource(account);
    const children = [];
    for (const child of this.kinds.values()) {
      if (!child.parentKinds?.includes(kind)) continue;
      const { total, items } = await this.store.transaction(account, (tx) => tx.list(child.kind, { parent: id, limit: CHILDREN_SHOWN }));
      if (total > 0) children.push({ kind: child.kind, title: child.title, total, items: items.map((r) => this.row(child, r, pending)) });
    }
    const links = [];
    for (const link of k.links ?? []) {
      for (const target of valuesAt(record.data, link.path.split('.'))) {
        if (typeof target !== 'string' || !target || target === id) continue;
        const exists = !!(await this.store.transaction(account, (tx) => tx.get(link.kind, target)));
        links.push({ field: link.path, kind: link.kind, id: target, exists });
      }
    }
    if (record.parent) {
      for (const parentKind of k.parentKinds ?? []) {
        if (await this.store.transaction(account, (tx) => tx.get(parentKind, record.parent!))) {
          links.unshift({ field: 'parent', kind: parentKind, id: record.parent, exists: true });
          break;
        }
      }
    }
    return { ...this.row(k, record, pending), data: maskValue(record.data), children, links };
  }

  private kind(kind: string): BrowseKind {
    const k = this.kinds.get(kind);
    if (!k) throw new BrowseError(404, `no browsable kind ${kind} (kinds: ${[...this.kinds.keys()].join(', ')})`);
    return k;
  }

  private row(k: BrowseKind, r: ResourceRecord, pending: Map<string, PendingTransition[]>): ResourceRow {
    const data = r.data as Record<string, unknown>;
    const fields: Record<string, unknown> = {};
    for (const c of k.columns) fields[c] = maskValue(data[c], c);
    return {
      id: r.id, kind: r.kind, name: k.nameField ? ((data[k.nameField] as string | undefined) ?? null) : null,
      parent: r.parent, status: r.status, createdAt: new Date(r.createdAt).toISOString(), fields, pending: pending.get(r.id) ?? [],
    };
  }

  /**
   * Pending transitions by the resource ids their payloads name: the
   * scheduler stores payloads per product, so any string in one is taken
   * as a possible resource id.
   */
  private async pendingByResource(account: string): Promise<Map<string, PendingTransition[]>> {
    const out = new Map<string, PendingTransition[]>();
    for (const t of await this.store.pendingTransitions(account, PENDING_READ)) {
      const view = pendingView(t);
      for (const id of stringsIn(t.payload, 3)) {
        const list = out.get(id) ?? [];
        if (!list.includes(view)) list.push(view);
        out.set(id, list);
      }
    }
    return out;
  }
}

const pendingView = (t: ScheduledTransition): PendingTransition => ({ id: t.id, service: t.service, type: t.type, dueAt: new Date(t.dueAt).toISOString() });

function stringsIn(value: unknown, depth: number): string[] {
  if (typeof value === 'string') return [value];
  if (depth === 0 || !value || typeof value !== 'object') return [];
  const out: string[] = [];
  for (const v of Array.isArray(value) ? value : Object.values(value)) out.push(...stringsIn(v, depth - 1));
  return out;
}

/** Values at a dotted path, walking arrays on the way. */
function valuesAt(value: unknown, path: string[]): unknown[] {
  if (Array.isArray(value)) return value.flatMap((v) => valuesAt(v, path));
  if (path.length === 0) return [value];
  if (!value || typeof value !== 'object') return [];
  return valuesAt((value as Record<string, unknown>)[path[0]], path.slice(1));
}
