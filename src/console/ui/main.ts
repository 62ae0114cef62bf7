import { render } from 'preact';
import { adoptTokenFromAddress, getJson } from './api';
import { Controls } from './controls';
import { Faults } from './faults';
import { html } from './html';
import { Requests } from './requests';
import { ResourceDetail, ResourceList, type Inventory } from './resources';
import { href, useRoute } from './router';
import { Traffic } from './traffic';
import { useAsync } from './util';
import './style.css';

const TABS: Array<[string, string]> = [['resources', 'Resources'], ['requests', 'Requests'], ['traffic', 'Traffic'], ['controls', 'Controls'], ['faults', 'Faults']];

function App() {
  const route = useRoute();
  const view = route.path[0];
  const inventory = useAsync(() => getJson<Inventory>('/_tclocal/resources'), [view, route.params.account, route.params.kind, route.path[2]], 5000);
  const health = useAsync(() => getJson<{ services: string[]; version: string }>('/_tclocal/health'), []);
  let body;
  if (view === 'requests') body = html`<${Requests} route=${route} />`;
  else if (view === 'traffic') body = html`<${Traffic} />`;
  else if (view === 'controls') body = html`<${Controls} onChanged=${inventory.reload} />`;
  else if (view === 'faults') body = html`<${Faults} services=${health.data?.services ?? []} />`;
  else if (inventory.error) body = html`<p class="error">${inventory.error}</p>`;
  else if (!inventory.data) body = html`<p class="muted">Loading…</p>`;
  else if (view === 'resource') body = html`<${ResourceDetail} route=${route} inventory=${inventory.data} />`;
  else body = html`<${ResourceList} route=${route} inventory=${inventory.data} />`;
  const active = view === 'resource' ? 'resources' : view;
  return html`<header><h1>tclocal</h1>
      <nav class="tabs">${TABS.map(([id, label]) => html`<a id=${`tab-${id}`} class=${active === id ? 'active' : ''} href=${href([id], id === 'resources' && route.params.account ? { account: route.params.account } : {})}>${label}</a>`)}</nav>
      <span class="version">${health.data ? `v${health.data.version}` : ''}</span></header>
    <main>${body}</main>`;
}

adoptTokenFromAddress();
render(html`<${App} />`, document.getElementById('app')!);
