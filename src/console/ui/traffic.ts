import { useRef, useState } from 'preact/hooks';
import { getJson } from './api';
import { html } from './html';
import { usePolling } from './util';
import type { ListenerTraffic, OriginHealth, TrafficSnapshot } from '../traffic';

type Snapshot = ({ running: true } & TrafficSnapshot) | { running: false; note: string };

/** One poll of a listener: open connections, bytes/s both ways, requests (or new connections) per second, healthy share. */
interface Sample { at: number; connections: number; bps: number; perSecond: number; healthy: number }

interface History {
  last?: ListenerTraffic & { at: number };
  samples: Sample[];
  /** Per origin (`realServerId|ruleId|port`): its health at each poll, oldest first. */
  origins: Map<string, boolean[]>;
}

/** Polls kept: two minutes at one poll every two seconds. */
const KEEP = 60;
const POLL_MS = 2000;

const originKey = (o: OriginHealth) => `${o.realServerId}|${o.ruleId ?? ''}|${o.port}`;

function Spark({ values, label, metric, digits = 1 }: { values: number[]; label: string; metric: string; digits?: number }) {
  const max = Math.max(1e-9, ...values);
  const w = 180;
  const hgt = 36;
  const pts = values.map((v, i) => `${(i / Math.max(1, KEEP - 1)) * w},${hgt - (v / max) * hgt}`).join(' ');
  return html`<figure class="spark" data-metric=${metric}><svg width=${w} height=${hgt} viewBox=${`0 0 ${w} ${hgt}`}><polyline points=${pts} /></svg>
    <figcaption>${label}: <span class="value">${values.length ? values[values.length - 1].toFixed(digits) : '—'}</span></figcaption></figure>`;
}

/** An origin's health at each poll: green healthy, red unhealthy. */
function HealthStrip({ states }: { states: boolean[] }) {
  return html`<span class="health-strip" title="health over the last polls, oldest first">${states.map((ok) => html`<i class=${ok ? 'ok' : 'err'}></i>`)}</span>`;
}

const bytes = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

function record(history: Map<string, History>, s: TrafficSnapshot): void {
  for (const p of s.proxies) {
    for (const l of p.listeners) {
      const key = `${p.proxyId}/${l.listenerId}`;
      const h: History = history.get(key) ?? { samples: [], origins: new Map() };
      const dt = h.last ? (s.at - h.last.at) / 1000 : 0;
      const rate = (now: number, before?: number) => (dt > 0 && before !== undefined ? Math.max(0, (now - before) / dt) : 0);
      h.samples.push({
        at: s.at, connections: l.connections,
        bps: rate(l.bytesIn + l.bytesOut, h.last ? h.last.bytesIn + h.last.bytesOut : undefined),
        perSecond: rate(l.requests ?? l.accepted, h.last ? h.last.requests ?? h.last.accepted : undefined),
        healthy: l.origins.length ? l.origins.filter((o) => o.healthy).length / l.origins.length : 1,
      });
      if (h.samples.length > KEEP) h.samples.shift();
      for (const o of l.origins) {
        const states = h.origins.get(originKey(o)) ?? [];
        states.push(o.healthy);
        if (states.length > KEEP) states.shift();
        h.origins.set(originKey(o), states);
      }
      h.last = { ...l, at: s.at };
      history.set(key, h);
    }
  }
}

export function Traffic() {
  const [snap, setSnap] = useState<Snapshot | undefined>();
  const [error, setError] = useState<string | undefined>();
  const history = useRef(new Map<string, History>());
  usePolling(async () => {
    try {
      const s = await getJson<Snapshot>('/_tclocal/traffic');
      if (s.running) record(history.current, s);
      setSnap(s);
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, POLL_MS, []);
  return html`<section class="main traffic">
    <h2>Traffic</h2>
    ${error ? html`<p class="error">${error}</p>` : null}
    ${snap && !snap.running ? html`<p class="note" id="traffic-note">${snap.note}</p>` : null}
    ${snap && snap.running && snap.proxies.length === 0 ? html`<p class="note">No proxy has a listener yet.</p>` : null}
    ${snap && snap.running ? snap.proxies.map((p) => html`<div class="proxy" data-proxy=${p.proxyId}><h3>${p.proxyId} <small>account ${p.account}</small></h3>
      ${p.listeners.map((l) => {
        const h = history.current.get(`${p.proxyId}/${l.listenerId}`);
        const samples = h?.samples ?? [];
        const l7 = l.requests !== undefined;
        return html`<div class="listener" data-listener=${l.listenerId}>
          <h4>${l.listenerId} <small>${l.protocol} ${l.bound ?? 'not bound'}</small></h4>
          <${Spark} values=${samples.map((x) => x.connections)} label="connections" metric="connections" digits=${0} />
          <${Spark} values=${samples.map((x) => (x.bps * 8) / 1e6)} label="Mbit/s" metric="mbps" digits=${3} />
          <${Spark} values=${samples.map((x) => x.perSecond)} label=${l7 ? 'requests/s' : 'new connections/s'} metric="per-second" />
          <${Spark} values=${samples.map((x) => x.healthy * 100)} label="% origins healthy" metric="healthy" digits=${0} />
          <dl class="totals">
            <dt>accepted</dt><dd data-total="accepted">${l.accepted}</dd>
            ${l7 ? html`<dt>requests</dt><dd data-total="requests">${l.requests}</dd>` : null}
            <dt>in</dt><dd data-total="bytes-in">${bytes(l.bytesIn)}</dd>
            <dt>out</dt><dd data-total="bytes-out">${bytes(l.bytesOut)}</dd>
          </dl>
          <table class="grid origins">
            <thead><tr><th>Origin</th><th>Real server</th>${l7 ? html`<th>Rule</th>` : null}<th>Health</th><th class="num">Open</th><th>Over time</th></tr></thead>
            <tbody>${l.origins.map((o) => html`<tr data-origin=${`${o.address}:${o.port}`}>
              <td class="mono">${o.address}:${o.port}</td><td>${o.realServerId}</td>${l7 ? html`<td>${o.ruleId}</td>` : null}
              <td><span class=${`badge ${o.healthy ? 'ok' : 'err'}`}>${o.healthy ? 'healthy' : 'unhealthy'}</span></td>
              <td class="num">${o.connections}</td>
              <td><${HealthStrip} states=${h?.origins.get(originKey(o)) ?? []} /></td>
            </tr>`)}</tbody>
          </table>
        </div>`;
      })}</div>`) : null}
  </section>`;
}
