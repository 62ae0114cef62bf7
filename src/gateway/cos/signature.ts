import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { cosErrors } from './errors';

/**
 * The COS request signature (`q-sign-algorithm=sha1`), carried in the
 * Authorization header or, for pre-signed URLs, in the query string.
 */
export interface QSignAuth {
  algorithm: string;
  ak: string;
  signStart: number;
  signEnd: number;
  keyTime: string;
  keyStart: number;
  keyEnd: number;
  signTime: string;
  headerList: string[];
  urlParamList: string[];
  signature: string;
  /** Where it came from. */
  source: 'header' | 'query';
}

/** `encodeURIComponent` plus the characters COS also escapes. */
export function cosUrlEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

const REQUIRED = ['q-sign-algorithm', 'q-ak', 'q-sign-time', 'q-key-time', 'q-header-list', 'q-url-param-list', 'q-signature'] as const;

function parseWindow(name: string, value: string): [number, number] {
  const m = /^(\d{1,12});(\d{1,12})$/.exec(value);
  if (!m) throw cosErrors.accessDenied(`The value of \`${name}\` in the signature is malformed: expected "<start>;<end>" in seconds.`);
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start > end) throw cosErrors.accessDenied(`The value of \`${name}\` in the signature is malformed: the start is after the end.`);
  return [start, end];
}

/** Pairs of an Authorization value: `k=v&k=v`. */
function pairsOf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.trim().split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (!out.has(key)) out.set(key, eq < 0 ? '' : part.slice(eq + 1).trim());
  }
  return out;
}

function build(values: Map<string, string>, source: QSignAuth['source']): QSignAuth {
  for (const key of REQUIRED) {
    if (!values.has(key)) throw cosErrors.accessDenied(`The signature is malformed: \`${key}\` is missing.`);
  }
  const algorithm = values.get('q-sign-algorithm')!.toLowerCase();
  if (algorithm !== 'sha1') throw cosErrors.accessDenied(`The signature algorithm \`${algorithm}\` is not supported; use sha1.`);
  const signTime = values.get('q-sign-time')!;
  const keyTime = values.get('q-key-time')!;
  const [signStart, signEnd] = parseWindow('q-sign-time', signTime);
  const [keyStart, keyEnd] = parseWindow('q-key-time', keyTime);
  const list = (v: string) => (v ? v.split(';').map((s) => s.trim().toLowerCase()).filter(Boolean) : []);
  const signature = values.get('q-signature')!.toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(signature)) throw cosErrors.accessDenied('The signature is malformed: `q-signature` must be 40 hexadecimal digits.');
  const ak = values.get('q-ak')!;
  if (!ak) throw cosErrors.accessDenied('The signature is malformed: `q-ak` is empty.');
  return {
    algorithm, ak, signTime, signStart, signEnd, keyTime, keyStart, keyEnd, signature, source,
    headerList: list(values.get('q-header-list')!),
    urlParamList: list(values.get('q-url-param-list')!),
  };
}

/** True when the request carries a q-sign signature at all (header or query). */
export function hasQSign(authorization: string | undefined, rawQuery: string): boolean {
  return (authorization ?? '').toLowerCase().includes('q-sign-algorithm=') || /(^|&)q-sign-algorithm=/i.test(rawQuery);
}

/**
 * The signature of a request, or undefined when it carries none. A
 * signature that is present but malformed is an AccessDenied error.
 */
export function parseQSign(authorization: string | undefined, query: URLSearchParams): QSignAuth | undefined {
  if (authorization && authorization.toLowerCase().includes('q-sign-algorithm=')) return build(pairsOf(authorization), 'header');
  if (query.has('q-sign-algorithm')) {
    const values = new Map<string, string>();
    for (const [k, v] of query) if (k.toLowerCase().startsWith('q-') && !values.has(k.toLowerCase())) values.set(k.toLowerCase(), v);
    return build(values, 'query');
  }
  return undefined;
}

export interface SignedRequest {
  method: string;
  /** Percent-decoded path, starting with `/`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

/** `key=value` pairs of the listed names, as the signer wrote them. */
function canonicalPairs(names: string[], lookup: (name: string) => string | undefined): string {
  return names.map((name) => `${name}=${cosUrlEncode(lookup(name) ?? '')}`).join('&');
}

/** The expected q-signature of a request for a secret key. */
export function computeQSignature(auth: Pick<QSignAuth, 'keyTime' | 'signTime' | 'headerList' | 'urlParamList'>, secretKey: string, req: SignedRequest): string {
  const queryByName = new Map<string, string>();
  for (const [k, v] of req.query) {
    const name = cosUrlEncode(k).toLowerCase();
    if (!queryByName.has(name)) queryByName.set(name, v);
  }
  const headerByName = new Map<string, string>();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    headerByName.set(cosUrlEncode(k).toLowerCase(), Array.isArray(v) ? v.join(',') : String(v));
  }
  const signKey = createHmac('sha1', secretKey).update(auth.keyTime).digest('hex');
  const httpString = [
    req.method.toLowerCase(),
    req.path,
    canonicalPairs(auth.urlParamList, (n) => queryByName.get(n)),
    canonicalPairs(auth.headerList, (n) => headerByName.get(n)),
    '',
  ].join('\n');
  const stringToSign = ['sha1', auth.signTime, createHash('sha1').update(httpString, 'utf8').digest('hex'), ''].join('\n');
  return createHmac('sha1', signKey).update(stringToSign).digest('hex');
}

/** Throws when the signing window does not contain `nowSeconds`. */
export function checkSignWindow(auth: QSignAuth, nowSeconds: number): void {
  if (nowSeconds < auth.signStart) throw cosErrors.notYetValid(auth.signStart);
  if (nowSeconds > auth.signEnd || nowSeconds > auth.keyEnd) throw cosErrors.expired();
  if (nowSeconds < auth.keyStart) throw cosErrors.notYetValid(auth.keyStart);
}

/** Throws SignatureDoesNotMatch unless the signature is the one `secretKey` gives. */
export function verifyQSignature(auth: QSignAuth, secretKey: string, req: SignedRequest): void {
  const expected = Buffer.from(computeQSignature(auth, secretKey, req), 'hex');
  const given = Buffer.from(auth.signature, 'hex');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw cosErrors.signatureMismatch();
}
