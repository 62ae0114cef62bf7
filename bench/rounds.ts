/**
 * Rounds run alternately against several servers, and their medians: the
 * measuring method every benchmark of `npm run bench` shares.
 */
import { numberOption } from './args';
import { load, type LoadResult, type Replay } from './load';
import { cpuSeconds } from './servers';

/** Alternating rounds per comparison. */
export const ROUNDS = numberOption('--rounds', 7);

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface Series extends LoadResult {
  /** Requests per second of each round. */
  rounds: string;
  /** Requests per second of each round, in order. */
  perRound: number[];
}

/**
 * How `a` compares with `b`: the median of the ratios of rounds run one
 * after the other. The machine's speed drifts between rounds (other tenants,
 * frequency); adjacent rounds share most of it, so their ratio cancels it.
 */
export const pairedRatio = (a: Series, b: Series): number => median(a.perRound.map((x, i) => x / b.perRound[i]));

/**
 * Measures each server in turn, `rounds` times, after a warm-up, and keeps
 * the medians: load from elsewhere on the machine falls on every side alike.
 */
export async function alternate(ports: Record<string, number>, request: Replay, seconds: number, connections: number, rounds = ROUNDS): Promise<Record<string, Series>> {
  for (const port of Object.values(ports)) await load(port, [request], Math.min(2, seconds), connections);
  const all: Record<string, LoadResult[]> = {};
  for (let i = 0; i < rounds; i++) {
    for (const [name, port] of Object.entries(ports)) (all[name] ??= []).push(await load(port, [request], seconds, connections));
  }
  const out: Record<string, Series> = {};
  for (const [name, rs] of Object.entries(all)) {
    out[name] = {
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      errors: rs.reduce((n, r) => n + r.errors, 0),
      non2xx: rs.reduce((n, r) => n + r.non2xx, 0),
      seconds: rs.reduce((n, r) => n + r.seconds, 0),
      rounds: rs.map((r) => r.rps.toFixed(0)).join('/'),
      perRound: rs.map((r) => r.rps),
    };
    console.log(`  ${name}: ${out[name].rps.toFixed(0)} req/s (rounds ${out[name].rounds}), p50 ${out[name].p50} ms, p99 ${out[name].p99} ms`);
  }
  return out;
}

/**
 * CPU time each server spends per answered request, median over rounds run
 * in alternating order. On a machine shared with other work, throughput
 * moves with the neighbours; the CPU a process spends per request much less.
 */
export async function cpuPerRequest(servers: Record<string, { port: number; pid: number }>, request: Replay, seconds: number, connections: number, rounds = ROUNDS): Promise<Record<string, number>> {
  const all: Record<string, number[]> = {};
  const entries = Object.entries(servers);
  for (let i = 0; i < rounds; i++) {
    for (const [name, s] of i % 2 ? [...entries].reverse() : entries) {
      const before = cpuSeconds(s.pid);
      const r = await load(s.port, [request], seconds, connections);
      (all[name] ??= []).push(((cpuSeconds(s.pid) - before) / (r.rps * r.seconds)) * 1e6);
    }
  }
  const out: Record<string, number> = {};
  for (const [name, xs] of Object.entries(all)) {
    out[name] = median(xs);
    console.log(`  ${name}: ${out[name].toFixed(1)} µs CPU per request (rounds ${xs.map((x) => x.toFixed(0)).join('/')})`);
  }
  return out;
}

