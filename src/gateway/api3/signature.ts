import { createHash, createHmac, hash, timingSafeEqual } from 'node:crypto';

/** The parts of a TC3-HMAC-SHA256 Authorization header. */
export interface Tc3Authorization {
  secretId: string;
  date: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const TC3_PATTERN =
  /^TC3-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{4}-\d{2}-\d{2})\/([^/\s,]+)\/tc3_request\s*,\s*SignedHeaders=([a-z0-9;._-]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/i;

export function parseTc3Authorization(header: string): Tc3Authorization | undefined {
  const m = TC3_PATTERN.exec(header);
  if (!m) return undefined;
  return { secretId: m[1], date: m[2], service: m[3], signedHeaders: m[4].toLowerCase().split(';'), signature: m[5].toLowerCase() };
}

/** One-shot hashing where Node has it (20.12+): no hash object per call. */
const sha256Hex = typeof hash === 'function'
  ? (data: string | Buffer) => hash('sha256', data, 'hex')
  : (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const EMPTY_HASH = sha256Hex('');
const UNSIGNED_HASH = sha256Hex('UNSIGNED-PAYLOAD');

/** Signing keys are derived per (key, day, service); most requests reuse one. */
const signingKeys = new Map<string, Buffer>();

function signingKey(secretKey: string, date: string, service: string): Buffer {
  const cacheKey = `${date}\n${service}\n${secretKey}`;
  let key = signingKeys.get(cacheKey);
  if (!key) {
    const kDate = createHmac('sha256', 'TC3' + secretKey).update(date).digest();
    const kService = createHmac('sha256', kDate).update(service).digest();
    key = createHmac('sha256', kService).update('tc3_request').digest();
    if (signingKeys.size > 1000) signingKeys.clear();
    signingKeys.set(cacheKey, key);
  }
  return key;
}

function safeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * Host values a client may have signed: as received, without a scheme that
 * some CLIs put in the Host header, and without the port (the Node SDK signs
 * the bare hostname while sending the port).
 */
export function hostCandidates(host: string): string[] {
  const out = [host];
  const noScheme = host.replace(/^[a-z]+:\/\//i, '');
  if (noScheme !== host) out.push(noScheme);
  const noPort = noScheme.replace(/:\d+$/, '');
  if (noPort !== noScheme) out.push(noPort);
  return out;
}

export interface Tc3Request {
  method: string;
  /** Path as received, without the query. */
  path: string;
  /** Raw query string as received (never re-encoded). */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  timestamp: string;
}

/** One way a client may have written the canonical request (see verifyTc3). */
interface Variant {
  host: number;
  uri: number;
  lowerCase: boolean;
}

/**
 * Checks a TC3 signature, accepting the variants real clients produce (host
 * with or without port, URI as sent or `/`, header values as sent or
 * lower-cased). The credential scope's service is used as sent, never checked
 * against the routed service. The variant that matched last time for the
 * same Host is tried first and alone: clients keep signing the same way.
 */
export function verifyTc3(auth: Tc3Authorization, secretKey: string, req: Tc3Request): boolean {
  const payloadHash = String(req.headers['x-tc-content-sha256'] ?? '').toUpperCase() === 'UNSIGNED-PAYLOAD'
    ? UNSIGNED_HASH
    : req.body.length === 0 ? EMPTY_HASH : sha256Hex(req.body);
  const prefix = `TC3-HMAC-SHA256\n${req.timestamp}\n${auth.date}/${auth.service}/tc3_request\n`;
  const key = signingKey(secretKey, auth.date, auth.service);
  const signedHeaders = auth.signedHeaders.join(';');
  const hostHeader = String(req.headers.host ?? '');
  const hosts = hostCandidates(hostHeader);
  const uris = req.path === '/' ? ['/'] : [req.path, '/'];

  const matches = (v: Variant): boolean => {
    let headers = '';
    for (const name of auth.signedHeaders) {
      const raw = name === 'host' ? hosts[v.host] : req.headers[name];
      headers += `${name}:${(Array.isArray(raw) ? raw.join(',') : String(raw ?? '')).trim()}\n`;
    }
    if (v.lowerCase) {
      const lower = headers.toLowerCase();
      if (lower === headers) return false; // the same text as the as-sent variant
      headers = lower;
    }
    const canonical = `${req.method}\n${uris[v.uri]}\n${req.query}\n${headers}\n${signedHeaders}\n${payloadHash}`;
    const expected = createHmac('sha256', key).update(prefix + sha256Hex(canonical)).digest('hex');
    return safeEqualHex(expected, auth.signature);
  };

  const preferred = preferredVariant.get(hostHeader);
  if (preferred && preferred.host < hosts.length && preferred.uri < uris.length && matches(preferred)) return true;
  for (let host = 0; host < hosts.length; host++) {
    for (let uri = 0; uri < uris.length; uri++) {
      for (const lowerCase of [false, true]) {
        const v = { host, uri, lowerCase };
        if (preferred && preferred.host === host && preferred.uri === uri && preferred.lowerCase === lowerCase) continue;
        if (matches(v)) {
          if (preferredVariant.size > 1000) preferredVariant.clear();
          preferredVariant.set(hostHeader, v);
          return true;
        }
      }
    }
  }
  return false;
}

const preferredVariant = new Map<string, Variant>();

export interface V1Request {
  method: string;
  path: string;
  host: string;
  /** Decoded parameters as received, Signature included. */
  params: Map<string, string>;
}

/**
 * Checks a v1 (HmacSHA1 / HmacSHA256) signature: sorted `k=v` pairs of the
 * decoded parameters, signed with the method, host and path.
 */
export function verifyV1(secretKey: string, req: V1Request): boolean {
  const signature = req.params.get('Signature') ?? '';
  const algorithm = req.params.get('SignatureMethod') === 'HmacSHA256' ? 'sha256' : 'sha1';
  const keys = [...req.params.keys()].filter((k) => k !== 'Signature').sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const query = keys.map((k) => `${k}=${req.params.get(k)}`).join('&');
  const given = Buffer.from(signature, 'base64');
  const paths = req.path === '/' ? ['/'] : [req.path, '/'];
  for (const host of hostCandidates(req.host)) {
    for (const path of paths) {
      const expected = createHmac(algorithm, secretKey).update(`${req.method}${host}${path}?${query}`).digest();
      if (expected.length === given.length && timingSafeEqual(expected, given)) return true;
    }
  }
  return false;
}
