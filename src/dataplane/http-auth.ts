/**
 * SetAuthentication in the data plane: basic authentication of clients
 * against a domain's user file, and the TLS settings towards origins
 * (their certificate verified against the origin CAs, the proxy's own
 * client certificate presented).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import type { BasicAuthUsers, OriginTls } from '../services/gaap/forwarding-http';
import { rawAnswer } from './http-guard';
import { passwordMatches } from './passwords';

/** Verdicts kept per user file and Authorization value (bcrypt costs tens of milliseconds per check). */
const VERDICT_CACHE_SIZE = 4096;

/** The `user:hash` lines of a basic-authentication file; the first line of a user counts. */
export function parseUsers(content: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const line of content.split(/\r?\n/)) {
    const t = line.trim();
    const colon = t.indexOf(':');
    if (colon <= 0 || t.startsWith('#')) continue;
    const name = t.slice(0, colon);
    if (!users.has(name)) users.set(name, t.slice(colon + 1));
  }
  return users;
}

/** The user and password of a `Basic` Authorization header, or undefined. */
function credentials(header: string | undefined): { user: string; password: string } | undefined {
  const m = header && /^basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Decides whether requests carry credentials of a domain's user file. */
export class BasicAuthGate {
  /** Each user file read, with a number that tells its verdicts apart from other files'. */
  private readonly files = new Map<string, { users: Map<string, string>; tag: number }>();
  private readonly byView = new WeakMap<BasicAuthUsers, { users: Map<string, string>; tag: number }>();
  private readonly verdicts = new Map<string, boolean>();
  private tags = 0;

  /** Whether the request may pass (a promise while a costly hash is checked). */
  allows(auth: BasicAuthUsers, req: IncomingMessage): boolean | Promise<boolean> {
    const header = req.headers.authorization;
    if (!header) return false;
    const file = this.file(auth);
    const key = `${file.tag}\n${header}`;
    const known = this.verdicts.get(key);
    if (known !== undefined) return known;
    const c = credentials(header);
    const hash = c && file.users.get(c.user);
    const verdict = c && hash ? passwordMatches(c.password, hash) : false;
    if (typeof verdict === 'boolean') return this.remember(key, verdict);
    return verdict.then((v) => this.remember(key, v));
  }

  /** The file of a view: found by the view object on the hot path, by content when the view was rebuilt (verdicts survive reconfiguration). */
  private file(auth: BasicAuthUsers): { users: Map<string, string>; tag: number } {
    let file = this.byView.get(auth);
    if (file) return file;
    const key = `${auth.configId}\n${auth.content}`;
    file = this.files.get(key);
    if (!file) {
      if (this.files.size >= 256) this.files.clear();
      this.files.set(key, (file = { users: parseUsers(auth.content), tag: ++this.tags }));
    }
    this.byView.set(auth, file);
    return file;
  }

  private remember(key: string, verdict: boolean): boolean {
    if (this.verdicts.size >= VERDICT_CACHE_SIZE) this.verdicts.delete(this.verdicts.keys().next().value as string);
    this.verdicts.set(key, verdict);
    return verdict;
  }
}

const CHALLENGE_BODY = '401 Authorization Required\n';
/** The WWW-Authenticate value of a 401 (realm = the domain). */
export const challengeOf = (realm: string): string => `Basic realm="${realm.replace(/["\\]/g, '')}", charset="UTF-8"`;

/** The answer to a request without valid credentials: 401 with the challenge. */
export function challenge(res: ServerResponse, realm: string): void {
  res.writeHead(401, { 'www-authenticate': challengeOf(realm), 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(CHALLENGE_BODY) });
  res.end(CHALLENGE_BODY);
}

/** The same answer written on a raw socket (upgrade requests have no response object). */
export function rawChallenge(realm: string): string {
  return rawAnswer(401, `WWW-Authenticate: ${challengeOf(realm)}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n`, CHALLENGE_BODY);
}

/**
 * TLS options of a request to an HTTPS origin. Without origin
 * authentication nothing is verified. With it, the chain must lead to one
 * of the origin CAs and the certificate must name the rule's verification
 * name, else the Host sent to the origin (without its port).
 */
export function originTlsOptions(tls: OriginTls, serverName: string | undefined, upstreamHostName: string): ConnectionOptions {
  const out: ConnectionOptions = { servername: serverName ?? '' };
  if (tls.clientCert) {
    out.cert = tls.clientCert.cert;
    out.key = tls.clientCert.key;
  }
  if (!tls.cas) {
    out.rejectUnauthorized = false;
    return out;
  }
  const name = tls.verifyName ?? serverName ?? upstreamHostName;
  out.rejectUnauthorized = true;
  out.ca = tls.cas;
  out.checkServerIdentity = (_host: string, cert: PeerCertificate) => (name ? checkServerIdentity(name, cert) : undefined);
  return out;
}

/** OpenSSL's and Node's codes for a certificate the proxy refused. */
const VERIFY_FAILURES = /^(ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|CERT_|INVALID_CA|PATH_LENGTH_EXCEEDED|INVALID_PURPOSE|CERT_UNTRUSTED|CERT_REJECTED|HOSTNAME_MISMATCH)/;

/** A connect, answer head or answer body that did not come in time (Node's and undici's codes). */
const TIMEOUTS = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The proxy's answer when an origin could not serve: 504 after a timeout, 502 otherwise (naming a refused certificate). */
export function originFailure(err: NodeJS.ErrnoException): { status: number; reason: string } {
  if (err.code !== undefined && TIMEOUTS.has(err.code)) return { status: 504, reason: 'the origin did not answer in time' };
  if (err.code && VERIFY_FAILURES.test(err.code)) return { status: 502, reason: `the origin's certificate could not be verified (${err.code})` };
  return { status: 502, reason: 'the origin could not be reached' };
}
