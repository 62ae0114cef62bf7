/**
 * tclocal counts rate limits in one-second windows of the wall clock. A
 * burst meant to land in one window can straddle two on a loaded machine,
 * and then nothing is throttled. `inOneSecond` starts the burst at the top
 * of a second and keeps its result only when it also ended within that
 * second (the server runs in the test's process, on the same clock), so
 * every call was counted in one window; otherwise it prepares and tries
 * again. The counts checked on the result are then exact.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function inOneSecond<P, T>(prepare: () => Promise<P>, burst: (prepared: P) => Promise<T>, attempts = 6): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const prepared = await prepare();
    await sleep(1000 - (Date.now() % 1000) + 5);
    const started = Date.now();
    const out = await burst(prepared);
    if (Math.floor(started / 1000) === Math.floor(Date.now() / 1000)) return out;
  }
  throw new Error(`none of ${attempts} bursts fitted in one second`);
}
