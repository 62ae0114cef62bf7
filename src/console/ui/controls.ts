import { useState } from 'preact/hooks';
import { getJson, sendJson } from './api';
import { html } from './html';

/** Every control changes state: each asks first. */
export function Controls({ onChanged }: { onChanged: () => void }) {
  const [message, setMessage] = useState<{ text: string; error?: boolean } | undefined>();
  const run = async (question: string, fn: () => Promise<string>) => {
    if (!confirm(question)) return;
    try {
      setMessage({ text: await fn() });
      onChanged();
    } catch (err) {
      setMessage({ text: (err as Error).message, error: true });
    }
  };
  const advance = () => run('Complete every pending transition now?', async () => {
    const r = await sendJson<{ applied: number }>('POST', '/_tclocal/transitions/advance');
    return `${r.applied} transition(s) applied.`;
  });
  const reset = () => run('Delete every resource of every account? This cannot be undone.', async () => {
    await sendJson('POST', '/_tclocal/reset');
    return 'State reset.';
  });
  const exportState = () => run('Download the whole state (every account, private keys included) as a JSON file?', async () => {
    const dump = await getJson<unknown>('/_tclocal/state');
    const url = URL.createObjectURL(new Blob([JSON.stringify(dump)], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `tclocal-state-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    return 'State exported.';
  });
  const importState = async (e: Event) => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    await run(`Replace the whole state with ${file.name}? Everything now stored is lost.`, async () => {
      await sendJson('POST', '/_tclocal/state', await file.text());
      return `Imported ${file.name}.`;
    });
  };
  return html`<section class="main controls">
    <h2>Controls</h2>
    <div class="control"><button id="advance" onClick=${advance}>Advance transitions</button>
      <p class="muted">Completes every pending status change (CREATING → RUNNING, …) now, as POST /_tclocal/transitions/advance does.</p></div>
    <div class="control"><button id="export" onClick=${exportState}>Export state</button>
      <p class="muted">Downloads GET /_tclocal/state.</p></div>
    <div class="control"><label class="button">Import state… <input id="import" type="file" accept="application/json,.json" onChange=${importState} /></label>
      <p class="muted">Replaces everything with an export.</p></div>
    <div class="control"><button id="reset" class="danger" onClick=${reset}>Reset</button>
      <p class="muted">Deletes every resource of every account.</p></div>
    ${message ? html`<p id="control-result" class=${message.error ? 'error' : 'ok'}>${message.text}</p>` : null}
  </section>`;
}
