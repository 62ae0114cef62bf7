/**
 * Secrets never leave the request log: values under names that hold keys,
 * signatures, passwords or tokens, and any PEM private key wherever it sits,
 * are replaced before a logged call is shown.
 */

export const MASK = '***';

/** Names whose values are secret: SecretKey, CertificateKey, PrivateKey, Signature, Authorization, Token, Password... */
const SECRET_NAME = /secret|private|passw|token|signature|authorization|credential|cookie|(?<!tag|public)key$/i;
/** Names that look secret above but are not (an account's SecretId is its public half). */
const NOT_SECRET = /^(secretid|x-tc-secretid)$/i;
const PRIVATE_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g;

export const isSecretName = (name: string): boolean => SECRET_NAME.test(name) && !NOT_SECRET.test(name);

/** Private keys inside free text (XML bodies, messages). */
export const maskText = (text: string): string => (text.includes('PRIVATE KEY') ? text.replace(PRIVATE_PEM, MASK) : text);

/** A deep copy of a parsed JSON value with secrets replaced. */
export function maskValue(value: unknown, name = ''): unknown {
  if (name && isSecretName(name) && value !== null && value !== undefined && value !== '') return MASK;
  if (typeof value === 'string') return maskText(value);
  if (Array.isArray(value)) return value.map((v) => maskValue(v));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskValue(v, k);
    return out;
  }
  return value;
}

/** A URL with the values of secret query parameters replaced. */
export function maskUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let changed = false;
  for (const key of [...params.keys()]) {
    if (isSecretName(key)) {
      params.set(key, MASK);
      changed = true;
    }
  }
  return changed ? `${url.slice(0, q)}?${params.toString()}` : url;
}
