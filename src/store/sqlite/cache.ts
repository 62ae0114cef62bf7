/**
 * List caches of the SQLite store. A page read costs its rows, not the
 * table: the total of a filtered list (a count over every match) and the
 * rows of small pages are kept until a write to the same account and kind.
 * `gens` counts the writes per account and kind; `epoch` moves on any change
 * that is not tracked per kind (rollback, import, reset, a commit by another
 * connection).
 */
import type { Row } from './sql';

/** Bounds of the list caches: entries, the largest page kept, and the stored text of all kept pages. */
const CACHE_ENTRIES = 2000;
const CACHE_PAGE_ROWS = 100;
const CACHE_PAGE_CHARS = 8_000_000;

interface CachedCount {
  gen: number;
  epoch: number;
  n: number;
}

export interface CachedPage {
  gen: number;
  epoch: number;
  rows: Row[];
  /** Parsed once the page is read a second time; callers get copies, never these objects. */
  parsed?: unknown[];
  /** The rows' data as one JSON array (pages read as bytes), shared by every reader of the page. */
  joined?: Buffer;
}

export interface PageRead {
  rows: Row[];
  hit?: CachedPage;
  entry?: CachedPage;
}

export class ListCache {
  private readonly gens = new Map<string, number>();
  /** Read by callers that remember what they computed at an epoch. */
  epoch = 0;
  /** Accounts that have written since the list was read (read again after a rollback, import or reset). */
  private accountsSeen: Set<string> | undefined;
  private accountsEpoch = -1;
  private dataVersion = -1;
  private readonly counts = new Map<string, CachedCount>();
  private readonly pages = new Map<string, CachedPage>();
  private pageChars = 0;

  /** Given the database's `data_version` once a transaction holds the write lock: another connection's commits invalidate the caches. */
  sawDataVersion(v: number): void {
    if (v !== this.dataVersion) {
      if (this.dataVersion !== -1) this.invalidateAll();
      this.dataVersion = v;
    }
  }

  invalidateAll(): void {
    this.epoch++;
    this.counts.clear();
    this.pages.clear();
    this.pageChars = 0;
  }

  /** A record of `kind` was written for `account`. */
  touched(account: string, kind: string): void {
    this.accountsSeen?.add(account);
    const key = `${account}\u0000${kind}`;
    this.gens.set(key, (this.gens.get(key) ?? 0) + 1);
  }

  private gen(account: string, kind: string): number {
    return this.gens.get(`${account}\u0000${kind}`) ?? 0;
  }

  /** The accounts with records, when known since the last change not tracked per kind. */
  knownAccounts(): string[] | undefined {
    return this.accountsSeen && this.accountsEpoch === this.epoch ? [...this.accountsSeen] : undefined;
  }

  /** Keeps the accounts read at `epoch`; writes since then add to them. */
  rememberAccounts(list: string[], epoch: number): void {
    this.accountsSeen = new Set(list);
    this.accountsEpoch = epoch;
  }

  cachedCount(account: string, kind: string, key: string, compute: () => number): number {
    const gen = this.gen(account, kind);
    const hit = this.counts.get(key);
    if (hit && hit.gen === gen && hit.epoch === this.epoch) return hit.n;
    const n = compute();
    if (this.counts.size >= CACHE_ENTRIES) this.counts.clear();
    this.counts.set(key, { gen, epoch: this.epoch, n });
    return n;
  }

  /**
   * Rows of a page, from the cache when no write to the kind came since;
   * `hit` is the cache entry read, `entry` the one that now holds the page.
   */
  cachedPage(account: string, kind: string, key: string, limit: number | undefined, compute: () => Row[]): PageRead {
    if (limit === undefined || limit > CACHE_PAGE_ROWS) return { rows: compute() };
    const gen = this.gen(account, kind);
    const hit = this.pages.get(key);
    if (hit && hit.gen === gen && hit.epoch === this.epoch) return { rows: hit.rows, hit, entry: hit };
    const rows = compute();
    let chars = 0;
    for (const r of rows) chars += r.data.length;
    this.pageChars += chars;
    if (this.pages.size >= CACHE_ENTRIES || this.pageChars > CACHE_PAGE_CHARS) {
      this.pages.clear();
      this.pageChars = chars;
    }
    const entry: CachedPage = { gen, epoch: this.epoch, rows };
    this.pages.set(key, entry);
    return { rows, entry };
  }

  /** Keeps a page's joined bytes with it (counted against the cache's size). */
  keepJoined(page: CachedPage, json: Buffer): void {
    page.joined = json;
    this.pageChars += json.length;
  }
}
