/**
 * Console benchmark (npm run bench:console): the bundle's size, first paint
 * and first table in Debian's Chromium, and how the resource lists answer
 * with 10,000 proxies (pages and filters run in the store). Prints a
 * Markdown section for BENCHMARKS.md.
 *
 *   npm run bench:console -- [--proxies 10000] [--loads 7] [--no-write]
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DEFAULT_ACCOUNT } from '../src/config';
import { launch } from '../testkit/browser';
import { flag, numberOption } from './args';
import { CONSOLE_HEADING, writeSection } from './report';
import { startTclocalProcess } from './servers';

const PROXIES = numberOption('--proxies', 10_000);
const LOADS = numberOption('--loads', 7);
const UI = resolve(__dirname, '..', 'ui');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

async function json(port: number, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Fills the default account with `n` proxies: one made through the API, copied under new ids, imported at once. */
async function fill(port: number, n: number): Promise<void> {
  const headers = { 'Content-Type': 'application/json', 'X-TC-Action': 'CreateProxy', 'X-TC-Version': '2018-05-29' };
  const created: any = await (await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST', headers,
    body: JSON.stringify({ ProjectId: 0, ProxyName: 'bench-0', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 }),
  })).json();
  if (created.Response.Error) throw new Error(JSON.stringify(created.Response.Error));
  await json(port, 'POST', '/_tclocal/transitions/advance', {});
  const dump = await json(port, 'GET', '/_tclocal/state');
  const template = dump.tables.resources.find((r: any) => r.kind === 'gaap.proxy');
  const data = JSON.parse(template.data);
  for (let i = 1; i < n; i++) {
    const id = `link-b${i.toString(36).padStart(7, '0')}`;
    dump.tables.resources.push({ ...template, id, created_at: template.created_at + i, data: JSON.stringify({ ...data, ProxyId: id, InstanceId: id, ProxyName: `bench-${i}` }) });
  }
  await json(port, 'POST', '/_tclocal/state', dump);
}

async function timeApi(port: number, path: string, rounds = 21): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    await json(port, 'GET', path);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(ms);
}

async function pageLoads(url: string): Promise<{ fcp: number; table: number }> {
  const browser = await launch();
  try {
    const fcp: number[] = [];
    const table: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const page = await browser.context.newPage();
      await page.goto(url);
      await page.locator('table[data-kind="gaap.proxy"] tbody tr').first().waitFor();
      const t = await page.evaluate(() => ({
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
        table: performance.now(),
      }));
      fcp.push(t.fcp);
      table.push(t.table);
      await page.close();
    }
    return { fcp: median(fcp), table: median(table) };
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const lines: string[] = [];
  for (const file of ['app.js', 'app.css']) {
    const bytes = readFileSync(resolve(UI, file));
    lines.push(`| bundle \`${file}\` (minified; gzip) | ${kib(bytes.length)}; ${kib(gzipSync(bytes).length)} |`);
  }
  const server = await startTclocalProcess();
  try {
    const account = DEFAULT_ACCOUNT.uin;
    await fill(server.port, 1);
    const small = await pageLoads(`http://127.0.0.1:${server.port}/_tclocal/ui`);
    lines.push(`| first contentful paint, 1 proxy (median of ${LOADS} loads) | ${small.fcp.toFixed(0)} ms |`);
    lines.push(`| navigation to the proxy table shown, 1 proxy | ${small.table.toFixed(0)} ms |`);

    await json(server.port, 'POST', '/_tclocal/reset', {});
    await fill(server.port, PROXIES);
    const n = PROXIES.toLocaleString('en-US');
    const big = await pageLoads(`http://127.0.0.1:${server.port}/_tclocal/ui`);
    lines.push(`| navigation to the proxy table shown, ${n} proxies | ${big.table.toFixed(0)} ms |`);
    const base = `/_tclocal/resources/gaap.proxy?account=${account}&limit=50`;
    lines.push(`| list API, ${n} proxies, first page of 50 (median of 21) | ${(await timeApi(server.port, base)).toFixed(1)} ms |`);
    lines.push(`| list API, ${n} proxies, last page | ${(await timeApi(server.port, `${base}&offset=${PROXIES - 50}`)).toFixed(1)} ms |`);
    lines.push(`| list API, ${n} proxies, text search (\`bench-99\`, a scan) | ${(await timeApi(server.port, `${base}&q=bench-99`)).toFixed(1)} ms |`);
    lines.push(`| list API, ${n} proxies, status filter | ${(await timeApi(server.port, `${base}&status=RUNNING`)).toFixed(1)} ms |`);
    lines.push(`| inventory (counts per account and kind) | ${(await timeApi(server.port, '/_tclocal/resources')).toFixed(1)} ms |`);
  } finally {
    server.child.kill('SIGKILL');
  }
  const text = [
    `## ${CONSOLE_HEADING}`,
    '',
    `Measured by \`npm run bench:console\` (bench/console.ts), ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}, ` +
      `Debian's Chromium headless on the same machine; page timings are medians of ${LOADS} loads in a fresh profile.`,
    '',
    '| Measure | Value |',
    '|---|---|',
    ...lines,
    '',
  ].join('\n');
  console.log(text);
  if (!flag('--no-write')) writeSection(CONSOLE_HEADING, text);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
