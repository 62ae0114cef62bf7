/**
 * Loaded with `--require` before a tclocal process in a test: the runtime
 * then offers no way to bind a socket without listening on it (the
 * internal call `bound-socket.ts` uses is gone), as a runtime without it
 * would. Loaded on its own it does nothing else.
 */
import net = require('node:net');

delete (net as unknown as Record<string, unknown>)._createServerHandle;
