/**
 * Which port a listener's socket ends up on, the same for TCP, UDP, HTTP
 * and HTTPS listeners: its own port first; a privileged port (below 1024)
 * the process may not bind moves by the configured offset; where listeners
 * share one address (127.0.0.1 or ::1), a port another listener already
 * holds moves to any free one. See docs/dataplane.md.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface PortRules {
  /** Added to a privileged port that cannot be bound. */
  offset: number;
  /** Every listener shares the address: a taken port moves to a free one. */
  shared: boolean;
  /** Forwarder processes hold the socket too: they let go of an unbound one a moment after this process. */
  forwarders: boolean;
}

/** How often, and how long apart, a port still held by forwarder processes is tried again. */
const RETRIES = 10;
const RETRY_MS = 50;

/**
 * Runs `attempt` on each port the rules allow until one succeeds: the
 * port it bound, or the last error (undefined if no attempt ran). A port
 * just let go of may still be the forwarders' for a moment, so on an
 * address of its own EADDRINUSE is retried first.
 */
export async function bindListenerPort(port: number, rules: PortRules, attempt: (port: number) => Promise<number>): Promise<{ port: number } | { error: NodeJS.ErrnoException | undefined }> {
  const ports = [port];
  if (port < 1024) ports.push(port + rules.offset);
  if (rules.shared) ports.push(0);
  let error: NodeJS.ErrnoException | undefined;
  let retries = rules.forwarders && !rules.shared ? RETRIES : 0;
  for (let i = 0; i < ports.length; i++) {
    try {
      return { port: await attempt(ports[i]) };
    } catch (err) {
      error = err as NodeJS.ErrnoException;
      if (error.code === 'EADDRINUSE' && ports[i] !== 0 && retries-- > 0) {
        await sleep(RETRY_MS);
        i--;
        continue;
      }
      if (error.code !== 'EACCES' && !(error.code === 'EADDRINUSE' && rules.shared)) break;
    }
  }
  return { error };
}
