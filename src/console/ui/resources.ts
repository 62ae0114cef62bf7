import { useState } from 'preact/hooks';
import { getJson, query } from './api';
import { html } from './html';
import { href, navigate, type Route } from './router';
import { relative, show, useAsync } from './util';
import type { BrowseKind } from '../../services/browse';
import { LIVE_KINDS, type LiveOrigin, type PendingTransition, type ResourceRow } from '../wire';

type Row = ResourceRow;

export interface Inventory {
  kinds: BrowseKind[];
  accounts: Array<{ account: string; counts: Record<string, number>; pending: number }>;
}

const PAGE = 50;
/** Lists and details follow the state on their own: what a tool creates shows up without a click. */
const REFRESH_MS = 2000;

function PendingBadges({ pending }: { pending: PendingTransition[] }) {
  return html`${pending.map((p) => html`<span class="badge pending" title=${`transition #${p.id} due ${p.dueAt}`}>${p.type} ${relative(p.dueAt)}</span>`)}`;
}

/** The data plane's live health of a resource's origins, in one badge. */
function LiveBadge({ live }: { live?: LiveOrigin[] }) {
  if (!live?.length) return null;
  const healthy = live.filter((o) => o.healthy).length;
  return html`<span class=${`badge live ${healthy === live.length ? 'ok' : 'err'}`} title="live health from the data plane">${healthy}/${live.length} healthy</span>`;
}

function RowsTable({ kind, rows, account }: { kind: BrowseKind; rows: Row[]; account: string }) {
  const live = rows.some((r) => r.live);
  return html`<table class="grid" data-kind=${kind.kind}>
    <thead><tr><th>ID</th>${kind.nameField ? html`<th>Name</th>` : null}<th>Status</th>${live ? html`<th>Live</th>` : null}
      ${kind.columns.filter((c) => c !== kind.nameField).map((c) => html`<th>${c}</th>`)}<th>Pending</th></tr></thead>
    <tbody>
      ${rows.map((r) => html`<tr data-id=${r.id}>
        <td><a href=${href(['resource', r.kind, r.id], { account })}>${r.id}</a></td>
        ${kind.nameField ? html`<td>${r.name}</td>` : null}
        <td><span class="status">${r.status ?? ''}</span></td>${live ? html`<td><${LiveBadge} live=${r.live} /></td>` : null}
        ${kind.columns.filter((c) => c !== kind.nameField).map((c) => html`<td>${show(r.fields[c])}</td>`)}
        <td><${PendingBadges} pending=${r.pending} /></td>
      </tr>`)}
    </tbody>
  </table>`;
}

export function Sidebar({ inventory, account, kind }: { inventory: Inventory; account: string; kind?: string }) {
  const counts = inventory.accounts.find((a) => a.account === account)?.counts ?? {};
  const services = [...new Set(inventory.kinds.map((k) => k.service))];
  return html`<nav class="kinds">
    <label>Account <select id="account" value=${account} onChange=${(e: Event) => navigate(href(['resources'], { account: (e.target as HTMLSelectElement).value, kind }))}>
      ${inventory.accounts.map((a) => html`<option value=${a.account}>${a.account}</option>`)}
    </select></label>
    ${services.map((s) => html`<div class="service"><h3>${s.toUpperCase()}</h3><ul>
      ${inventory.kinds.filter((k) => k.service === s).map((k) => html`<li class=${k.kind === kind ? 'active' : ''}>
        <a href=${href(['resources'], { account, kind: k.kind })} data-kind=${k.kind}>${k.title}</a> <span class="count">${counts[k.kind] ?? 0}</span></li>`)}
    </ul></div>`)}
  </nav>`;
}

export function ResourceList({ route, inventory }: { route: Route; inventory: Inventory }) {
  const p = route.params;
  const account = p.account ?? inventory.accounts[0]?.account ?? '';
  const kind = inventory.kinds.find((k) => k.kind === (p.kind ?? 'gaap.proxy')) ?? inventory.kinds[0];
  const offset = Number(p.offset ?? 0);
  const [text, setText] = useState(p.q ?? '');
  const list = useAsync(
    () => getJson<{ total: number; items: Row[] }>(`/_tclocal/resources/${kind.kind}${query({ account, offset, limit: PAGE, q: p.q, status: p.status, parent: p.parent })}`),
    [account, kind.kind, offset, p.q, p.status, p.parent],
    REFRESH_MS,
  );
  const go = (changes: Record<string, string | number | undefined>) => navigate(href(['resources'], { ...p, account, kind: kind.kind, ...changes }));
  const total = list.data?.total ?? 0;
  return html`<div class="with-sidebar">
    <${Sidebar} inventory=${inventory} account=${account} kind=${kind.kind} />
    <section class="main">
      <h2>${kind.title} <small>account ${account}</small></h2>
      <form class="filters" onSubmit=${(e: Event) => { e.preventDefault(); go({ q: text, offset: 0 }); }}>
        <input id="search" placeholder="id, name, address…" value=${text} onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} />
        <input id="status-filter" placeholder="status" value=${p.status ?? ''} onChange=${(e: Event) => go({ status: (e.target as HTMLInputElement).value, offset: 0 })} />
        ${p.parent ? html`<span class="chip">under ${p.parent} <a href=${href(['resources'], { account, kind: kind.kind })}>×</a></span>` : null}
        <button type="submit">Filter</button>
        <button type="button" onClick=${() => list.reload()}>Refresh</button>
      </form>
      ${list.error ? html`<p class="error">${list.error}</p>` : null}
      ${list.data ? html`
        <p class="summary">${total === 0 ? 'Nothing here.' : `${offset + 1}–${Math.min(offset + PAGE, total)} of ${total}`}</p>
        <${RowsTable} kind=${kind} rows=${list.data.items} account=${account} />
        <div class="pager">
          <button disabled=${offset === 0} onClick=${() => go({ offset: Math.max(0, offset - PAGE) })}>‹ Previous</button>
          <button disabled=${offset + PAGE >= total} onClick=${() => go({ offset: offset + PAGE })}>Next ›</button>
        </div>` : html`<p class="muted">Loading…</p>`}
    </section>
  </div>`;
}

interface Detail extends Row {
  data: unknown;
  children: Array<{ kind: string; title: string; total: number; items: Row[] }>;
  links: Array<{ field: string; kind: string; id: string; exists: boolean }>;
}

export function ResourceDetail({ route, inventory }: { route: Route; inventory: Inventory }) {
  const [, kindName, id] = route.path;
  const account = route.params.account ?? inventory.accounts[0]?.account ?? '';
  const kind = inventory.kinds.find((k) => k.kind === kindName);
  const detail = useAsync(() => getJson<Detail>(`/_tclocal/resources/${kindName}/${encodeURIComponent(id)}${query({ account })}`), [kindName, id, account], REFRESH_MS);
  const kindOf = (name: string) => inventory.kinds.find((k) => k.kind === name);
  const d = detail.data;
  return html`<div class="with-sidebar">
    <${Sidebar} inventory=${inventory} account=${account} kind=${kindName} />
    <section class="main detail">
      <p class="crumbs"><a href=${href(['resources'], { account, kind: kindName })}>${kind?.title ?? kindName}</a> › ${id}</p>
      ${detail.error ? html`<p class="error">${detail.error}</p>` : null}
      ${d ? html`
        <h2>${d.name ?? d.id} <span class="status">${d.status ?? ''}</span></h2>
        <p class="muted">${d.id} · created ${d.createdAt}</p>
        ${d.pending.length ? html`<p>Pending: <${PendingBadges} pending=${d.pending} /></p>` : null}
        ${d.live?.length ? html`<h3>Live health <small>from the data plane, now</small></h3>
          <table class="grid" id="live-health">
            <thead><tr><th>Origin</th><th>Real server</th><th>Proxy</th><th>Listener</th><th>Rule</th><th>Health</th><th class="num">Open</th></tr></thead>
            <tbody>${d.live.map((o) => html`<tr data-origin=${`${o.realServerId}@${o.ruleId ?? o.listenerId}@${o.proxyId}:${o.port}`}>
              <td class="mono">${o.address}:${o.port}</td>
              <td><a href=${href(['resource', LIVE_KINDS.realServer, o.realServerId], { account })}>${o.realServerId}</a></td>
              <td><a href=${href(['resource', LIVE_KINDS.proxy, o.proxyId], { account })}>${o.proxyId}</a></td>
              <td><a href=${href(['resource', LIVE_KINDS.listener, o.listenerId], { account })}>${o.listenerId}</a></td>
              <td>${o.ruleId ? html`<a href=${href(['resource', LIVE_KINDS.rule, o.ruleId], { account })}>${o.ruleId}</a>` : '—'}</td>
              <td><span class=${`badge ${o.healthy ? 'ok' : 'err'}`}>${o.healthy ? 'healthy' : 'unhealthy'}</span></td>
              <td class="num">${o.connections}</td>
            </tr>`)}</tbody>
          </table>` : null}
        ${d.links.length ? html`<h3>Related</h3><ul class="links">
          ${d.links.map((l) => html`<li>${l.field === 'parent' ? 'belongs to' : l.field} →${' '}
            ${l.exists ? html`<a href=${href(['resource', l.kind, l.id], { account })}>${kindOf(l.kind)?.title ?? l.kind}: ${l.id}</a>` : html`<span class="muted">${l.id} (gone)</span>`}</li>`)}
        </ul>` : null}
        ${d.children.map((c) => {
          const ck = kindOf(c.kind)!;
          return html`<div class="children" data-children=${c.kind}>
            <h3>${c.title} (${c.total}) ${c.total > c.items.length ? html`<a href=${href(['resources'], { account, kind: c.kind, parent: d.id })}>all</a>` : null}</h3>
            <${RowsTable} kind=${ck} rows=${c.items} account=${account} />
          </div>`;
        })}
        <h3>Stored data</h3>
        <pre class="json">${JSON.stringify(d.data, null, 2)}</pre>` : html`<p class="muted">Loading…</p>`}
    </section>
  </div>`;
}
