/**
 * Keeps freed memory for reuse instead of handing it straight back to the
 * kernel. A relayed stream reads into a new 64 KiB buffer each time, and the
 * garbage collector frees them in bursts of tens of MB; glibc returns freed
 * memory at the top of its heap as soon as 128 KiB lie there, so with its
 * default the next buffers land on pages faulted in afresh, and a bulk
 * stream spends most of its CPU in page faults (measured: 2 to 4 CPU seconds
 * per GB relayed, 0.7 with memory kept).
 *
 * A process cannot set glibc's threshold directly from JavaScript, but glibc
 * raises it by itself when a large block it had mapped for one allocation is
 * freed: to twice that block's size (here 32 MiB). So one 16 MiB buffer is
 * made and dropped at start-up; the collector frees it at its first pass.
 * A threshold the user set (`GLIBC_TUNABLES=glibc.malloc.trim_threshold=…`
 * or `mmap_threshold`) turns glibc's adjustment off and wins; other C
 * libraries are unaffected. It costs at most 32 MiB of resident memory.
 */
export function keepFreedMemory(): void {
  const block = Buffer.allocUnsafeSlow(16 * 1024 * 1024);
  block[0] = 1;
}
