/**
 * `npm run soak`: the reliability runs beside the tests — kill -9 trials,
 * a fuzz run across every action and both wire protocols, and a mixed-load
 * soak. Sizes from the environment: SOAK_KILL_TRIALS (20), SOAK_FUZZ
 * (100000), SOAK_MINUTES (30), SOAK_RESET_MINUTES (0: never; else the soak
 * empties the state that often, keeping the data bounded). Prints the BENCHMARKS.md reliability section;
 * SOAK_WRITE=1 writes it there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFuzz } from './reliability/fuzz';
import { killTrial, startProcess, stopProcess } from './reliability/kill';
import { runSoak, WARM_UP_DATABASE_MB, type MemorySample } from './reliability/soak';
import { RELIABILITY_HEADING, writeSection } from './report';
import { freePort } from './servers';

const num = (name: string, fallback: number) => (process.env[name] === undefined ? fallback : Number(process.env[name]));
/** Two clients: the load stays modest on a shared machine, and a leak shows with any load. */
const CLIENTS = 2;
const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const trials = num('SOAK_KILL_TRIALS', 20);
  const fuzzCount = num('SOAK_FUZZ', 100_000);
  const minutes = num('SOAK_MINUTES', 30);
  const rows: string[] = [];
  let failed = false;

  if (trials > 0) {
    let acknowledged = 0;
    let lost = 0;
    let unfinished = 0;
    let pending = 0;
    let unexpected = 0;
    for (let t = 1; t <= trials; t++) {
      const r = await killTrial(t, 4242 + t);
      acknowledged += r.acknowledged;
      lost += r.lost.length;
      unfinished += r.unfinished;
      pending += r.pendingAtKill;
      unexpected += r.unexpected.length;
      log(`kill trial ${t}/${trials}: killed after ${r.killAfterMs} ms, ${r.acknowledged} acknowledged, ${r.lost.length} lost, ${r.pendingAtKill} transitions pending at the kill, ${r.unfinished} left unfinished after restart${r.lost.length ? ' ' + JSON.stringify(r.lost.slice(0, 3)) : ''}${r.unexpected.length ? ' unexpected: ' + r.unexpected.slice(0, 3).join(' | ') : ''}`);
    }
    failed ||= lost > 0 || unfinished > 0;
    rows.push(`| kill -9 under mixed write load | ${trials} trials, ${acknowledged} writes acknowledged | ${lost} lost; ${pending} transitions pending at the kills, ${unfinished} left unfinished after restart; ${unexpected} unexpected errors | 0 lost |`);
  }

  if (fuzzCount > 0) {
    const dataDir = mkdtempSync(join(tmpdir(), 'tclocal-fuzz-'));
    const port = await freePort();
    const child = await startProcess(dataDir, port, 0);
    let exited = false;
    child.once('exit', () => (exited = true));
    try {
      const started = Date.now();
      const f = await runFuzz(port, fuzzCount, 1);
      const wellFormed = ((f.requests - f.malformedCount - f.noAnswer) / f.requests) * 100;
      log(`fuzz: ${f.requests} requests (${f.api3} API 3.0, ${f.xml} XML) in ${((Date.now() - started) / 1000).toFixed(0)} s, ${f.malformedCount} malformed, ${f.internalErrors} InternalError, ${f.noAnswer} unanswered, alive ${f.aliveAfter}`);
      for (const m of f.malformed) log(`  ${m}`);
      const top = Object.entries(f.codes).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([c, n]) => `${c} ${n}`).join(', ');
      log(`  answers: ${top}`);
      const crashes = exited || !f.aliveAfter ? 1 : 0;
      failed ||= crashes > 0 || f.malformedCount > 0 || f.noAnswer > 0;
      rows.push(`| fuzz, every action × both wire protocols | ${f.requests} requests (${f.api3} API 3.0: JSON, form, GET; ${f.xml} COS XML) | ${crashes} crashes, ${wellFormed.toFixed(3)}% well-formed envelopes, ${f.internalErrors} InternalError, ${f.noAnswer} unanswered | 0 crashes, 100% |`);
    } finally {
      await stopProcess(child, 'SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  if (minutes > 0) {
    const resetMinutes = num('SOAK_RESET_MINUTES', 0);
    const s = await runSoak(minutes, CLIENTS, log, resetMinutes * 60_000);
    if (s.unexpectedSamples.length) log(`soak unexpected: ${s.unexpectedSamples.join(' | ')}`);
    failed ||= !s.survived || s.unexpected > 0 || s.rssGrowthPct > 10 || s.traffic.failures > 0 || s.traffic.exchanges === 0;
    const pct = (from: number, to: number) => `${to >= from ? '+' : ''}${(((to - from) / from) * 100).toFixed(1)}%`;
    const mb = (x: number) => x.toFixed(1);
    const parts = (m: MemorySample) => `heap ${mb(m.heapUsed)} used of ${mb(m.heapTotal)}, external ${mb(m.external)}, file-backed ${mb(m.rssFile)}, database ${mb(m.db)} MB`;
    const warmUp = s.warmUpRule === 'database'
      ? `warm-up until the database reached ${WARM_UP_DATABASE_MB} MB (${s.warmUpMinutes.toFixed(1)} min, ${s.warmUpCalls} calls)`
      : `warm-up of a sixth of the run (the database stayed below ${WARM_UP_DATABASE_MB} MB)`;
    log(`soak memory: first minute ${parts(s.first)}; baseline ${parts(s.start)}; end ${parts(s.end)}`);
    rows.push(`| mixed-load soak (every product, ${CLIENTS} clients${resetMinutes ? `, state reset every ${resetMinutes} min` : ''}) | ${minutes} min, ${s.calls} calls, and ${s.traffic.exchanges} TCP connections through a data-plane listener (${s.traffic.failures} failed, ${mb(s.traffic.bytes / 1048576)} MB echoed) | ${warmUp}: RSS ${mb(s.start.rss)} MB → ${mb(s.mid.rss)} (midway) → ${mb(s.end.rss)} MB at the end: **${pct(s.start.rss, s.end.rss)}** (${pct(s.mid.rss, s.end.rss)} over the second half; from the first minute, ${mb(s.first.rss)} MB: ${pct(s.first.rss, s.end.rss)}; max ${mb(s.rssMaxMb)}); at the baseline ${parts(s.start)}, at the end ${parts(s.end)}; ${s.unexpected} unexpected errors${s.survived ? '' : ', server stopped answering'} | RSS growth ≤ 10% after the warm-up |`);
  }

  const section = [
    `## ${RELIABILITY_HEADING}`,
    '',
    `Measured by \`npm run soak\` (bench/soak.ts, bench/reliability/): ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}, on a machine shared with other work.`,
    'Kill trials: tclocal on a durable store with 400 ms transitions, six clients writing every product (GAAP certificates, proxies with tags, groups; SSL uploads; AMS tasks; CI jobs) through the official SDKs, `kill -9` at a random moment within 1.5 s after the first 20 acknowledged writes; after a restart every acknowledged write is read back through the API and every pending transition must complete.',
    'Fuzz: seeded generated requests, every action of every API 3.0 product in turn (JSON, form and GET, values of the right and wrong types, mangled bodies) and every eighth one a COS-style XML request; each answer must be a well-formed envelope of its protocol and none an InternalError.',
    `Soak: the same mixed load with deletes where the API has them, and beside it one client making short TCP connections (a kilobyte echoed each) through a data-plane listener to an origin in the benchmark process; resident memory of the tclocal process sampled every 10 s; each figure is the median of the samples of the minute before it, the baseline the minute after a warm-up that ends when the database file reaches ${WARM_UP_DATABASE_MB} MB, a quarter more than SQLite's page cache may keep, so the cache is full however fast the machine runs; V8 heap and external memory as the process reports them.`,
    '',
    '| Run | Size | Result | Target |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
  process.stdout.write(section + '\n');
  if (process.env.SOAK_WRITE === '1') writeSection(RELIABILITY_HEADING, section);
  process.exitCode = failed ? 1 : 0;
}

void main();
