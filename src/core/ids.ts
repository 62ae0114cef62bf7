import { randomBytes, randomUUID } from 'node:crypto';

const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const MIXED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomFrom(alphabet: string, length: number): string {
  let s = '';
  for (const b of randomBytes(length)) s += alphabet[b % alphabet.length];
  return s;
}

/** `prefix-` followed by `length` lowercase alphanumerics, as real resource IDs look. */
export const resourceId = (prefix: string, length = 8): string => `${prefix}-${randomFrom(LOWER, length)}`;

/** `length` letters of both cases and digits, for IDs such as SSL certificate and AMS task IDs. */
export const randomAlphanumeric = (length: number): string => randomFrom(MIXED, length);

export const requestId = (): string => randomUUID();
