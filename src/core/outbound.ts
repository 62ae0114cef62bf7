/**
 * Every request tclocal itself sends (CI and AMS callbacks, and any later
 * ones) goes through here, so a URL chosen by an API caller cannot turn
 * tclocal on itself or on the machine's cloud metadata service:
 *
 * - never tclocal's own endpoints: any loopback or local address with a port
 *   a tclocal in this process serves on, and the unspecified addresses
 *   (0.0.0.0, ::) on any port;
 * - never link-local or metadata addresses (169.254.0.0/16, fe80::/10,
 *   100.100.100.200, fd00:ec2::254) unless allowed by a setting;
 * - never multicast or broadcast; other loopback ports stay allowed (test
 *   receivers listen there).
 *
 * A name is resolved first and every address it resolves to is checked; the
 * connection is then made to the checked address itself, so a name cannot
 * resolve to a different address between the check and the connect.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { classifyAddress, localAddresses, normaliseAddress } from './addresses';

/** Ports served by the tclocal servers of this process (counted: two servers may share none, but stop in any order). */
const ownPorts = new Map<number, number>();

/** Called by a server once it listens, so no outbound call reaches it. */
export function registerOwnPort(port: number): () => void {
  ownPorts.set(port, (ownPorts.get(port) ?? 0) + 1);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const n = (ownPorts.get(port) ?? 1) - 1;
    if (n <= 0) ownPorts.delete(port);
    else ownPorts.set(port, n);
  };
}

export type Resolver = (hostname: string, options: { all: true }, cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

export interface OutboundOptions {
  allowLinkLocal: boolean;
  log?: Logger;
  /** Name resolution; the system's (dns.lookup) unless a test gives its own names. */
  resolve?: Resolver;
}

export interface OutboundResult {
  ok: boolean;
  status?: number;
  /** Why the call was not made at all; retrying cannot help. */
  refused?: string;
  error?: string;
}

class RefusedError extends Error {
  readonly refused = true;
}

export class OutboundGuard {
  constructor(private readonly options: OutboundOptions) {}

  /** Why tclocal may not connect to this address and port, or undefined. */
  refusal(address: string, port: number): string | undefined {
    const a = normaliseAddress(address);
    const kind = classifyAddress(a);
    if (kind === 'unspecified') return `${address} is an unspecified address, which reaches this machine`;
    if (kind === 'multicast') return `${address} is not a unicast address`;
    if (kind === 'link-local' && !this.options.allowLinkLocal) return `${address} is a link-local or metadata address (TCLOCAL_OUTBOUND_LINK_LOCAL)`;
    if (ownPorts.has(port) && (kind === 'loopback' || localAddresses().has(a))) return `${address}:${port} is tclocal itself`;
    return undefined;
  }

  /**
   * POSTs `body` to `url` once, through the rule above; never throws.
   * `what` names the sender in the log (one info line per attempt, with its result).
   */
  async post(url: string, body: string, headers: Record<string, string>, timeoutMs: number, what: { sender: string } & Record<string, unknown>): Promise<OutboundResult> {
    const result = await this.attempt(url, body, headers, timeoutMs);
    this.options.log?.info({ ...what, url, ok: result.ok, status: result.status, refused: result.refused, error: result.error }, 'outbound call');
    return result;
  }

  private attempt(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<OutboundResult> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.resolve({ ok: false, refused: 'not a valid URL' });
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return Promise.resolve({ ok: false, refused: `${target.protocol} URLs are not called` });
    const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const refused = this.refusal(host, port);
      if (refused) return Promise.resolve({ ok: false, refused });
    }
    // Resolves the name, checks every address, and hands the socket exactly the address checked.
    const lookup = (hostname: string, opts: { all?: boolean }, cb: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
      (this.options.resolve ?? (dnsLookup as Resolver))(hostname, { all: true }, (err, addresses) => {
        if (err) return cb(err, '');
        for (const a of addresses) {
          const refused = this.refusal(a.address, port);
          if (refused) return cb(new RefusedError(`${hostname} resolves to ${refused}`), '');
        }
        if (opts.all) cb(null, addresses);
        else cb(null, addresses[0].address, addresses[0].family);
      });
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const payload = Buffer.from(body);
      const req = send(target, {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(payload.length) },
        lookup: lookup as never,
        timeout: timeoutMs,
        agent: false,
      }, (res: IncomingMessage) => {
        res.resume();
        res.on('end', () => resolve({ ok: res.statusCode! >= 200 && res.statusCode! < 300, status: res.statusCode }));
        res.on('error', (err) => resolve({ ok: false, status: res.statusCode, error: err.message }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err) => resolve(err instanceof RefusedError ? { ok: false, refused: err.message } : { ok: false, error: err.message }));
      req.end(payload);
    });
  }
}
