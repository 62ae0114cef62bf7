import { useState } from 'preact/hooks';
import { getJson, query } from './api';
import { html } from './html';
import { href, navigate, type Route } from './router';
import { usePolling } from './util';
import type { LoggedCallDetail, LoggedCallSummary } from '../wire';

type Call = LoggedCallSummary;

const FILTERS = ['service', 'action', 'account', 'code'] as const;

function CallDetailView({ id }: { id: string }) {
  const [detail, setDetail] = useState<LoggedCallDetail | undefined>();
  const [error, setError] = useState<string | undefined>();
  usePolling(async () => {
    if (detail?.requestId === id) return;
    try {
      setDetail(await getJson<LoggedCallDetail>(`/_tclocal/requests/${encodeURIComponent(id)}`));
    } catch (err) {
      setError((err as Error).message);
    }
  }, 60_000, [id]);
  if (error) return html`<aside class="call"><p class="error">${error}</p></aside>`;
  if (!detail || detail.requestId !== id) return html`<aside class="call"><p class="muted">Loading…</p></aside>`;
  return html`<aside class="call" id="call-detail">
    <h3>${detail.service ?? '?'} ${detail.action ?? ''} ${detail.code ? html`<span class="code err">${detail.code}</span>` : html`<span class="code ok">OK</span>`}</h3>
    <p class="muted">${detail.time} · ${detail.ms} ms · account ${detail.account ?? '—'} · ${detail.requestId}${detail.fault ? ` · fault ${detail.fault}` : ''}</p>
    <p><code>${detail.method} ${detail.url}</code></p>
    <h4>Request parameters</h4>
    <pre class="json" id="call-params">${JSON.stringify(detail.params, null, 2)}</pre>
    <h4>Response${detail.truncated ? ' (its first 64 KiB)' : ''}</h4>
    <pre class="json" id="call-response">${typeof detail.response === 'string' ? detail.response : JSON.stringify(detail.response, null, 2)}</pre>
    <h4>Headers</h4>
    <pre class="json">${JSON.stringify(detail.headers, null, 2)}</pre>
  </aside>`;
}

export function Requests({ route }: { route: Route }) {
  const p = route.params;
  const [calls, setCalls] = useState<Call[]>([]);
  const [info, setInfo] = useState<{ enabled: boolean; capacity: number }>({ enabled: true, capacity: 0 });
  const [error, setError] = useState<string | undefined>();
  const [live, setLive] = useState(true);
  const filters = Object.fromEntries(FILTERS.map((f) => [f, p[f]]));
  usePolling(async () => {
    if (!live && calls.length) return;
    try {
      const res = await getJson<{ enabled: boolean; capacity: number; requests: Call[] }>(`/_tclocal/requests${query({ ...filters, limit: 200 })}`);
      setCalls(res.requests);
      setInfo(res);
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, 1500, [live, ...FILTERS.map((f) => p[f])]);
  const set = (name: string, value: string) => navigate(href(['requests'], { ...p, [name]: value, call: undefined }));
  return html`<div class="requests">
    <section class="main">
      <h2>Requests <small>${info.enabled ? `the last ${info.capacity} API calls` : 'the request log is off (TCLOCAL_REQUEST_LOG=0)'}</small></h2>
      <form class="filters" onSubmit=${(e: Event) => e.preventDefault()}>
        ${FILTERS.map((f) => html`<input name=${f} id=${`filter-${f}`} placeholder=${f === 'code' ? 'code (* any error)' : f} value=${p[f] ?? ''}
          onChange=${(e: Event) => set(f, (e.target as HTMLInputElement).value.trim())} />`)}
        <label><input type="checkbox" checked=${live} onChange=${() => setLive(!live)} /> live</label>
      </form>
      ${error ? html`<p class="error">${error}</p>` : null}
      <table class="grid" id="requests">
        <thead><tr><th>Time</th><th>Account</th><th>Service</th><th>Action</th><th>Result</th><th>ms</th><th>RequestId</th></tr></thead>
        <tbody>
          ${calls.map((c) => html`<tr class=${`${c.code ? 'failed' : ''} ${p.call === c.requestId ? 'selected' : ''}`} data-request-id=${c.requestId}
              onClick=${() => navigate(href(['requests'], { ...p, call: c.requestId }))}>
            <td>${c.time.slice(11, 23)}</td><td>${c.account ?? ''}</td><td>${c.service ?? ''}</td><td>${c.action ?? ''}</td>
            <td>${c.code ? html`<span class="code err">${c.code}</span>` : html`<span class="code ok">OK</span>`}${c.fault ? html` <span class="badge fault">${c.fault}</span>` : null}</td>
            <td class="num">${c.ms.toFixed(1)}</td><td class="mono">${c.requestId}</td>
          </tr>`)}
        </tbody>
      </table>
      ${calls.length === 0 ? html`<p class="muted">No calls yet.</p>` : null}
    </section>
    ${p.call ? html`<${CallDetailView} id=${p.call} />` : null}
  </div>`;
}
