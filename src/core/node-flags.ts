/**
 * Node flags tclocal's processes run with (`npm start` and the first line of
 * src/cli.ts, the `tclocal` command, pass them; the data plane's forwarder
 * processes get them when forked). A data-plane connection
 * or request leaves some kilobytes of short-lived objects; with V8's default
 * young generation (1 MB to start with, grown only when much survives) a
 * collection pauses the process every hundred connections or so, about 1% of
 * them, which is where a p99 latency is read. An 8 MB young generation makes
 * it one in several hundred, for about 16 MB of memory. V8 takes this size
 * only at start-up, so it cannot be set from inside the process.
 *
 * `--no-memory-reducer`: V8 otherwise collects the whole heap, to hand memory
 * back, when a process's allocation falls off some seconds after start-up or
 * after a burst of work: for a proxy that is the moment traffic turns light,
 * when each request's latency shows. Traced in the data-plane benchmark,
 * those collections paused the main process and the forwarders for 11 to
 * 34 ms, two or three in a row, their helper threads on every core for
 * milliseconds. Memory freed by the collections that allocation brings still
 * goes back as before.
 */
export const NODE_FLAGS: readonly string[] = ['--min-semi-space-size=8', '--no-memory-reducer'];
