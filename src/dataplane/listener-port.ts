/**
 * How a listener's socket is opened, the same for TCP, UDP, HTTP and HTTPS
 * listeners. Which port it ends up on: its own port first; a privileged
 * port (below 1024) the process may not bind moves by the configured
 * offset; where listeners share one address (127.0.0.1 or ::1), a port
 * another listener already holds moves to any free one. And who accepts on
 * a socket handed to forwarder processes that none took up in time: this
 * process. See docs/dataplane.md.
 */
import type { Socket as UdpSocket } from 'node:dgram';
import { isIP, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { BoundTcp } from './bound-socket';

/** Addresses a listener may bind without the data-plane host set. */
export const isLoopback = (ip: string): boolean => ip === '::1' || (isIP(ip) === 4 && ip.startsWith('127.'));

/** Binds and listens on `address:port`, or on a socket already bound (`handle`; `port` is then its port); resolves with the port. */
export function listen(server: Server | UdpSocket, address: string, port: number, handle?: object): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const ready = () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    };
    if ('bind' in server) server.bind({ address, port, exclusive: true }, ready);
    else if (handle) server.listen({ handle }, ready);
    else server.listen({ host: address, port, exclusive: true }, ready);
  });
}

/**
 * A socket handed to the forwarder processes that none of them took up in
 * time (all being started again): this process listens and accepts on it
 * instead, as without forwarders. On failure `release` lets go of it and
 * the error is thrown. Resolves with the socket's port.
 */
export async function acceptInstead(log: Logger, listenerId: string, server: Server, bound: BoundTcp, release: () => void): Promise<number> {
  log.warn({ listenerId, port: bound.port }, 'data plane: no forwarder process listened in time; the main process accepts on this listener');
  try {
    return await listen(server, '', bound.port, bound.handle);
  } catch (err) {
    release();
    throw err;
  }
}

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

/** How a listener's bind failure reads in `GET /_tclocal/dataplane` and the log: the error's code and message. */
export const bindErrorText = (err: NodeJS.ErrnoException | undefined): string => `${err?.code ?? 'error'}: ${err?.message ?? 'cannot bind'}`;

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
