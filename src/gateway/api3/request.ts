import { isUtf8 } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../../core/errors';
import { unflatten } from './flatten';
import { parseTc3Authorization, type Tc3Authorization } from './signature';

/** Parameters every request may carry that are not part of an action's own input. */
const V1_COMMON = new Set([
  'Action', 'Version', 'Region', 'Timestamp', 'Nonce', 'SecretId', 'Signature', 'SignatureMethod', 'Token', 'Language', 'RequestClient',
]);

export const LIMITS = { get: 32 * 1024, v1Post: 1024 * 1024, tc3Post: 10 * 1024 * 1024 };

export type Signing =
  | { kind: 'tc3'; auth: Tc3Authorization; timestamp: string }
  | { kind: 'v1'; secretId: string; timestamp: string }
  | { kind: 'none' };

/** A request in API 3.0 terms, before authentication. */
export interface Api3Request {
  method: string;
  path: string;
  query: string;
  host: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  signing: Signing;
  action?: string;
  version?: string;
  region?: string;
  language?: string;
  /** Decoded form/query pairs, for v1 signatures. */
  rawParams?: Map<string, string>;
  /** Business parameters; for JSON bodies parsed after the signature is checked. */
  params?: Record<string, unknown>;
}

const header = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Treat the placeholders some SDKs send for "no value" as absent. */
const present = (v: string | undefined): string | undefined => (v === undefined || v === '' || v === 'null' || v === 'undefined' ? undefined : v);

/** Far more parameters than any action takes; bounds the work a hostile form costs. */
export const MAX_FORM_PARAMS = 10_000;

/**
 * Form and query pairs, decoded strictly: a `%` not followed by two hex
 * digits, or escapes that are not UTF-8, are an InvalidParameter naming the
 * parameter (URLSearchParams would keep or replace them silently).
 */
function decodePairs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let count = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('&', start);
    if (end < 0) end = text.length;
    if (end > start) {
      if (++count > MAX_FORM_PARAMS) throw new ApiError('InvalidParameter', `A request may carry at most ${MAX_FORM_PARAMS} parameters.`);
      const pair = text.slice(start, end);
      const eq = pair.indexOf('=');
      const key = decodeComponent(eq < 0 ? pair : pair.slice(0, eq), undefined);
      out.set(key, decodeComponent(eq < 0 ? '' : pair.slice(eq + 1), key));
    }
    start = end + 1;
  }
  return out;
}

function decodeComponent(raw: string, key: string | undefined): string {
  const text = raw.includes('+') ? raw.replace(/\+/g, ' ') : raw;
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    const what = key === undefined ? `The parameter name \`${text.slice(0, 100)}\`` : `The value of parameter \`${key}\``;
    throw new ApiError('InvalidParameter', `${what} is not valid percent-encoded UTF-8.`);
  }
}

const notUtf8 = () => new ApiError('InvalidParameter', 'The request body is not valid UTF-8.');

/**
 * Reads the request form (JSON, form or GET), finds its signature family and
 * its common parameters. Throws ApiError for what no client should send.
 */
export function readApi3Request(method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): Api3Request {
  if (method !== 'GET' && method !== 'POST') {
    throw new ApiError('UnsupportedProtocol', `The HTTP method ${method} is not supported; use GET or POST.`);
  }
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  const contentType = (header(headers, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
  const authorization = header(headers, 'authorization');

  if (method === 'GET' && Buffer.byteLength(url) > LIMITS.get) {
    throw new ApiError('RequestSizeLimitExceeded', `A GET request may not exceed ${LIMITS.get} bytes.`);
  }

  const req: Api3Request = { method, path, query, host: header(headers, 'host') ?? '', headers, body, signing: { kind: 'none' } };

  const isTc3 = authorization !== undefined && /^TC3-HMAC-SHA256\b/i.test(authorization);
  if (isTc3) {
    const auth = parseTc3Authorization(authorization);
    if (!auth) throw new ApiError('AuthFailure.InvalidAuthorization', 'The Authorization header is not a well-formed TC3-HMAC-SHA256 authorization.');
    if (!auth.signedHeaders.includes('host') || !auth.signedHeaders.includes('content-type')) {
      throw new ApiError('AuthFailure.InvalidAuthorization', 'SignedHeaders must include content-type and host.');
    }
    const timestamp = header(headers, 'x-tc-timestamp');
    if (!timestamp) throw new ApiError('MissingParameter', 'The request is missing a required parameter `X-TC-Timestamp`.');
    req.signing = { kind: 'tc3', auth, timestamp };
  } else if (authorization !== undefined && authorization !== '' && authorization !== 'SKIP') {
    throw new ApiError('AuthFailure.InvalidAuthorization', 'The Authorization header is neither TC3-HMAC-SHA256 nor empty.');
  }

  if (method === 'POST' && contentType === 'application/json') {
    if (body.length > LIMITS.tc3Post) throw tooLarge(LIMITS.tc3Post);
  } else if (method === 'POST' && contentType === 'application/x-www-form-urlencoded') {
    if (body.length > LIMITS.v1Post) throw tooLarge(LIMITS.v1Post);
    if (!isUtf8(body)) throw notUtf8();
    req.rawParams = decodePairs(body.toString('utf8'));
  } else if (method === 'GET') {
    req.rawParams = decodePairs(query);
  } else if (method === 'POST' && contentType === 'multipart/form-data') {
    throw new ApiError('UnsupportedProtocol', 'multipart/form-data requests are not supported by any emulated action.');
  } else {
    throw new ApiError('UnsupportedProtocol', `The Content-Type "${contentType || '(none)'}" is not supported; use application/json or application/x-www-form-urlencoded.`);
  }

  if (req.signing.kind === 'tc3') {
    req.action = present(header(headers, 'x-tc-action'));
    req.version = present(header(headers, 'x-tc-version'));
    req.region = present(header(headers, 'x-tc-region'));
    req.language = present(header(headers, 'x-tc-language'));
  }
  const raw = req.rawParams;
  if (raw && req.signing.kind !== 'tc3') {
    const signature = raw.get('Signature');
    if (signature !== undefined) {
      const secretId = raw.get('SecretId');
      const timestamp = raw.get('Timestamp');
      if (!secretId) throw new ApiError('MissingParameter', 'The request is missing a required parameter `SecretId`.');
      if (!timestamp) throw new ApiError('MissingParameter', 'The request is missing a required parameter `Timestamp`.');
      req.signing = { kind: 'v1', secretId, timestamp };
    }
  }
  if (raw && req.signing.kind !== 'tc3') {
    req.action = present(raw.get('Action'));
    req.version = present(raw.get('Version'));
    req.region = present(raw.get('Region'));
    req.language = present(raw.get('Language'));
  } else if (req.signing.kind === 'none') {
    // Unsigned JSON (curl): common parameters as headers.
    req.action = present(header(headers, 'x-tc-action'));
    req.version = present(header(headers, 'x-tc-version'));
    req.region = present(header(headers, 'x-tc-region'));
    req.language = present(header(headers, 'x-tc-language'));
  }
  return req;
}

const tooLarge = (limit: number) => new ApiError('RequestSizeLimitExceeded', `The request body may not exceed ${limit} bytes.`);

/** The action's own parameters, parsed once the request is authenticated. */
export function businessParams(req: Api3Request): Record<string, unknown> {
  if (req.rawParams) {
    const own = new Map<string, string>();
    for (const [k, v] of req.rawParams) {
      if (!V1_COMMON.has(k)) own.set(k, v);
    }
    return unflatten(own);
  }
  if (req.body.length === 0) return {};
  if (!isUtf8(req.body)) throw notUtf8();
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body.toString('utf8'));
  } catch {
    throw new ApiError('InvalidParameter', 'The request body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ApiError('InvalidParameter', 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}
