/**
 * The load generator of the benchmarks. wrk (a C program, `apt-get install
 * wrk`) is used when it is installed: on a machine with few cores, a load
 * generator written in JavaScript spends as much CPU parsing large answers
 * as the server spends making them, and its own event-loop delays end up in
 * the latencies it reports. Without wrk, autocannon (a devDependency) is used,
 * and the report says so.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const autocannon = require('autocannon');

export type Replay = { method: string; path: string; headers: Record<string, string>; body: string };

export interface LoadResult {
  rps: number;
  /** Milliseconds, with a tenth of a millisecond. */
  p50: number;
  p99: number;
  /** Socket errors and timeouts. */
  errors: number;
  non2xx: number;
  seconds: number;
}

export const loadGenerator: 'wrk' | 'autocannon' = spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error ? 'autocannon' : 'wrk';

/** Replays `requests` in turn over `connections` connections for `seconds`. */
export function load(port: number, requests: Replay[], seconds: number, connections: number): Promise<LoadResult> {
  return loadGenerator === 'wrk' ? withWrk(port, requests, seconds, connections) : withAutocannon(port, requests, seconds, connections);
}

const ms = (us: number) => Math.round(us / 100) / 10;

/** A Lua long string that cannot be closed early by the text it holds. */
function luaString(text: string): string {
  let eq = '=';
  while (text.includes(`]${eq}]`)) eq += '=';
  return `[${eq}[${text}]${eq}]`;
}

/** A wrk `done` hook printing one RESULT line of JSON: requests, duration and latency percentiles in µs, errors, non-2xx answers. */
export const WRK_DONE = `done = function(summary, latency)
  local e = summary.errors
  io.write(string.format('RESULT {"requests":%d,"us":%d,"p50":%d,"p99":%d,"errors":%d,"non2xx":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
`;

function wrkScript(requests: Replay[]): string {
  const formatted = requests.map((r) => {
    const headers = Object.entries(r.headers).map(([k, v]) => `[ ${luaString(k)} ] = ${luaString(v)}`).join(', ');
    return `wrk.format(${luaString(r.method)}, ${luaString(r.path)}, { ${headers} }, ${luaString(r.body)})`;
  });
  return `
local requests = { ${formatted.join(',\n')} }
local i = 0
request = function()
  i = i % #requests + 1
  return requests[i]
end
${WRK_DONE}`;
}

async function withWrk(port: number, requests: Replay[], seconds: number, connections: number): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tclocal-wrk-'));
  const script = join(dir, 'replay.lua');
  writeFileSync(script, wrkScript(requests));
  try {
    const out = await new Promise<string>((resolve, reject) => {
      // One thread: the load generator keeps to one core, the server gets the other.
      const child = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, `http://127.0.0.1:${port}/`]);
      let text = '';
      child.stdout.on('data', (c) => (text += c));
      child.stderr.on('data', (c) => (text += c));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}: ${text}`))));
    });
    const line = /RESULT (\{.*\})/.exec(out);
    if (!line) throw new Error(`wrk printed no result: ${out}`);
    const r = JSON.parse(line[1]) as { requests: number; us: number; p50: number; p99: number; errors: number; non2xx: number };
    const secs = r.us / 1e6;
    return { rps: r.requests / secs, p50: ms(r.p50), p99: ms(r.p99), errors: r.errors, non2xx: r.non2xx, seconds: secs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function withAutocannon(port: number, requests: Replay[], seconds: number, connections: number): Promise<LoadResult> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `http://127.0.0.1:${port}`, connections, duration: seconds, pipelining: 1, requests },
      (err: Error | null, r: any) => (err ? reject(err) : resolve({
        rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx,
        seconds: Number(process.hrtime.bigint() - t0) / 1e9,
      })),
    );
  });
}

/** Replays `requests` in turn until `amount` answers came back (autocannon; for filling, not for measuring). */
export function replayAmount(port: number, requests: Replay[], amount: number, connections: number): Promise<{ failed: number; seconds: number }> {
  let failed = 0;
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}`, connections, amount, pipelining: 1,
        requests: requests.map((r) => ({ ...r, onResponse: (status: number, body: string) => { if (status !== 200 || body.includes('"Error"')) failed++; } })),
      },
      (err: Error | null) => (err ? reject(err) : resolve({ failed, seconds: Number(process.hrtime.bigint() - t0) / 1e9 })),
    );
  });
}
