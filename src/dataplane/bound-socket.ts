/**
 * A TCP socket bound to its address but not listening, for the forwarder
 * processes to listen and accept on while the main process only holds it
 * (it keeps the port, and is handed to a forwarder started again).
 *
 * Node offers no public way to bind without listening: this uses
 * `net._createServerHandle`, the function Node's own cluster primary binds
 * shared handles with. It is isolated here; where it is missing, `bindTcp`
 * answers undefined and the caller listens as without forwarders.
 */
import * as net from 'node:net';
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

/** The runtime's TCP handle, as far as this module uses it. */
interface TcpHandle {
  getsockname(out: { port?: number }): number;
  close(): void;
}

type CreateServerHandle = (address: string, port: number, addressType: number) => TcpHandle | number;

const createServerHandle = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle;

/** A bound socket: its handle goes to the forwarders as a message's handle (child_process sends raw TCP handles). */
export interface BoundTcp {
  readonly handle: object;
  readonly port: number;
  close(): void;
}

/** The error as `server.listen` would report it (Node names the syscall 'listen' for bind failures too). */
function bindError(errno: number, address: string, port: number): NodeJS.ErrnoException {
  const [code, description] = getSystemErrorMap().get(errno) ?? ['error', 'cannot bind'];
  return Object.assign(new Error(`listen ${code}: ${description} ${address}:${port}`), { errno, code, syscall: 'listen', address, port });
}

/** Binds `address:port` (0: any free port) without listening; throws the bind's error. Undefined where the runtime cannot. */
export function bindTcp(address: string, port: number): BoundTcp | undefined {
  if (typeof createServerHandle !== 'function') return undefined;
  const handle = createServerHandle(address, port, net.isIP(address));
  if (typeof handle === 'number') throw bindError(handle, address, port);
  const out: { port?: number } = {};
  const err = handle.getsockname(out);
  // libuv keeps a failed bind's EADDRINUSE for the listen that follows, leaving the socket unbound (port 0): report it now, as a listen here would.
  if (err !== 0 || (port !== 0 && out.port !== port) || !out.port) {
    handle.close();
    throw bindError(err !== 0 ? err : -constants.errno.EADDRINUSE, address, port);
  }
  let closed = false;
  return {
    handle,
    port: out.port,
    close: () => {
      if (closed) return;
      closed = true;
      handle.close();
    },
  };
}
