/** Small helpers that several services share. */
import { randomBytes } from 'node:crypto';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` random letters (both cases) and digits, for IDs such as SSL certificate and AMS task IDs. */
export function randomAlphanumeric(length: number): string {
  let s = '';
  for (const b of randomBytes(length)) s += ALPHANUMERIC[b % ALPHANUMERIC.length];
  return s;
}

/** True when `value` parses as an absolute URL with a host and one of `schemes` (written with the colon: `https:`). */
export function isUrl(value: string, schemes: readonly string[]): boolean {
  try {
    const u = new URL(value);
    return schemes.includes(u.protocol) && u.host !== '';
  } catch {
    return false;
  }
}
