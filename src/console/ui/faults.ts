import { useState } from 'preact/hooks';
import { getJson, sendJson } from './api';
import { html } from './html';
import { usePolling } from './util';

interface Rule {
  id: string;
  kind: 'api' | 'connection';
  service?: string;
  action?: string;
  account?: string;
  error?: { code: string; message: string };
  proxyId?: string;
  listenerId?: string;
  effect?: string;
  latencyMs: number;
  times?: number;
  share?: number;
  applied: number;
}

const FIELDS = ['service', 'action', 'account', 'error', 'latencyMs', 'times', 'share'] as const;
const CONNECTION_FIELDS = ['proxyId', 'listenerId', 'effect', 'latencyMs', 'times', 'share'] as const;
const NUMBERS = new Set(['latencyMs', 'times', 'share']);

function describe(r: Rule): string {
  const scope = r.kind === 'api'
    ? [r.service, r.action, r.account && `account ${r.account}`].filter(Boolean).join(' ')
    : [r.proxyId, r.listenerId].filter(Boolean).join(' ');
  const effect = r.kind === 'api'
    ? [r.error && `answers ${r.error.code}`, r.latencyMs && `waits ${r.latencyMs} ms`].filter(Boolean).join(', ')
    : `${r.effect}${r.latencyMs ? ` ${r.latencyMs} ms` : ''} (applied by the data plane)`;
  const when = [r.times !== undefined && `next ${r.times}`, r.share !== undefined && `${Math.round(r.share * 100)}% of calls`].filter(Boolean).join(', ') || 'every call';
  return `${scope}: ${effect}; ${when}`;
}

export function Faults({ services }: { services: string[] }) {
  const [rules, setRules] = useState<Rule[]>([]);
  const [kind, setKind] = useState<'api' | 'connection'>('api');
  const [form, setForm] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | undefined>();
  const load = async () => setRules((await getJson<{ faults: Rule[] }>('/_tclocal/faults')).faults);
  usePolling(load, 2000, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    const rule: Record<string, unknown> = { kind };
    for (const f of kind === 'api' ? FIELDS : CONNECTION_FIELDS) {
      const v = form[f]?.trim();
      if (v) rule[f] = NUMBERS.has(f) ? Number(v) : v;
    }
    try {
      await sendJson('POST', '/_tclocal/faults', rule);
      setError(undefined);
      setForm({});
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const remove = async (id: string) => {
    await sendJson('DELETE', `/_tclocal/faults/${encodeURIComponent(id)}`);
    await load();
  };
  const clear = async () => {
    if (!confirm('Remove every fault rule?')) return;
    await sendJson('DELETE', '/_tclocal/faults');
    await load();
  };
  const input = (name: string, placeholder: string, list?: string) => html`<label>${name}
    <input name=${name} id=${`fault-${name}`} placeholder=${placeholder} list=${list} value=${form[name] ?? ''}
      onInput=${(e: Event) => setForm({ ...form, [name]: (e.target as HTMLInputElement).value })} /></label>`;
  return html`<section class="main faults">
    <h2>Faults <small>in memory only; never applied to /_tclocal/ endpoints</small></h2>
    <form id="fault-form" class="fault-form" onSubmit=${submit}>
      <label>kind <select id="fault-kind" value=${kind} onChange=${(e: Event) => setKind((e.target as HTMLSelectElement).value as 'api' | 'connection')}>
        <option value="api">API calls</option><option value="connection">data-plane connections</option></select></label>
      ${kind === 'api' ? html`
        ${input('service', 'gaap', 'services')}${input('action', 'CreateProxy')}${input('account', 'uin')}
        ${input('error', 'documented code, e.g. ResourceUnavailable')}` : html`
        ${input('proxyId', 'link-…')}${input('listenerId', 'listener-…')}${input('effect', 'refuse | reset | delay')}`}
      ${input('latencyMs', 'added delay, ms')}${input('times', 'next N calls')}${input('share', '0.5 = half the calls')}
      <datalist id="services">${services.map((s) => html`<option value=${s} />`)}</datalist>
      <button type="submit" id="fault-add">Add rule</button>
    </form>
    ${error ? html`<p class="error" id="fault-problem">${error}</p>` : null}
    <table class="grid" id="faults">
      <thead><tr><th>Rule</th><th>What</th><th>Applied</th><th></th></tr></thead>
      <tbody>${rules.map((r) => html`<tr data-fault=${r.id}><td>${r.id}</td><td>${describe(r)}</td><td class="num">${r.applied}</td>
        <td><button class="remove" onClick=${() => remove(r.id)}>Remove</button></td></tr>`)}</tbody>
    </table>
    ${rules.length ? html`<button id="fault-clear" class="danger" onClick=${clear}>Clear all</button>` : html`<p class="muted">No fault rules.</p>`}
  </section>`;
}
