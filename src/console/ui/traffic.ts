import { useRef, useState } from 'preact/hooks';
import { getJson } from './api';
import { html } from './html';
import { usePolling } from './util';
import type { ListenerTraffic, TrafficSnapshot } from '../traffic';

type Listener = ListenerTraffic;

type Snapshot = ({ running: true } & TrafficSnapshot) | { running: false; note: string };

/** Samples per listener: connections, bytes/s in+out, accepted/s, healthy share. */
interface Sample { at: number; connections: number; bps: number; cps: number; healthy: number }

const KEEP = 60;

function Spark({ values, label }: { values: number[]; label: string }) {
  const max = Math.max(1, ...values);
  const w = 180;
  const hgt = 36;
  const pts = values.map((v, i) => `${(i / Math.max(1, KEEP - 1)) * w},${hgt - (v / max) * hgt}`).join(' ');
  return html`<figure class="spark"><svg width=${w} height=${hgt} viewBox=${`0 0 ${w} ${hgt}`}><polyline points=${pts} /></svg>
    <figcaption>${label}: ${values.length ? values[values.length - 1].toFixed(1) : '—'}</figcaption></figure>`;
}

export function Traffic() {
  const [snap, setSnap] = useState<Snapshot | undefined>();
  const [error, setError] = useState<string | undefined>();
  const history = useRef(new Map<string, { last?: Listener & { at: number }; samples: Sample[] }>());
  usePolling(async () => {
    try {
      const s = await getJson<Snapshot>('/_tclocal/traffic');
      if (s.running) {
        for (const p of s.proxies) {
          for (const l of p.listeners) {
            const h = history.current.get(l.listenerId) ?? { samples: [] };
            const dt = h.last ? (s.at - h.last.at) / 1000 : 0;
            const rate = (now: number, before?: number) => (dt > 0 && before !== undefined ? Math.max(0, (now - before) / dt) : 0);
            h.samples.push({
              at: s.at, connections: l.connections,
              bps: rate(l.bytesIn + l.bytesOut, h.last ? h.last.bytesIn + h.last.bytesOut : undefined),
              cps: rate(l.requests ?? l.accepted, h.last ? h.last.requests ?? h.last.accepted : undefined),
              healthy: l.origins.length ? l.origins.filter((o) => o.healthy).length / l.origins.length : 1,
            });
            if (h.samples.length > KEEP) h.samples.shift();
            h.last = { ...l, at: s.at };
            history.current.set(l.listenerId, h);
          }
        }
      }
      setSnap(s);
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, 2000, []);
  return html`<section class="main traffic">
    <h2>Traffic</h2>
    ${error ? html`<p class="error">${error}</p>` : null}
    ${snap && !snap.running ? html`<p class="note" id="traffic-note">${snap.note}</p>` : null}
    ${snap && snap.running && snap.proxies.length === 0 ? html`<p class="note">No listener is bound yet.</p>` : null}
    ${snap && snap.running ? snap.proxies.map((p) => html`<div class="proxy"><h3>${p.proxyId} <small>account ${p.account}</small></h3>
      ${p.listeners.map((l) => {
        const samples = history.current.get(l.listenerId)?.samples ?? [];
        return html`<div class="listener"><h4>${l.listenerId} <small>${l.protocol} ${l.bound ?? 'not bound'}</small></h4>
          <${Spark} values=${samples.map((x) => x.connections)} label="connections" />
          <${Spark} values=${samples.map((x) => x.bps / 1e6 * 8)} label="Mbit/s" />
          <${Spark} values=${samples.map((x) => x.cps)} label=${l.requests !== undefined ? 'requests/s' : 'new connections/s'} />
          <${Spark} values=${samples.map((x) => x.healthy * 100)} label="% origins healthy" />
          <p>${l.origins.map((o) => html`<span class=${`badge ${o.healthy ? 'ok' : 'err'}`}>${o.address}:${o.port} ${o.healthy ? 'healthy' : 'unhealthy'}</span>`)}</p>
        </div>`;
      })}</div>`) : null}
  </section>`;
}
