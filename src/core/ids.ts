import { randomFillSync, randomUUID } from 'node:crypto';

const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const MIXED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random bytes drawn from a pool refilled 4 KB at a time: one system call per few hundred IDs. */
const pool = Buffer.alloc(4096);
let used = pool.length;

function randomFrom(alphabet: string, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    if (used === pool.length) {
      randomFillSync(pool);
      used = 0;
    }
    s += alphabet[pool[used++] % alphabet.length];
  }
  return s;
}

/** `prefix-` followed by `length` lowercase alphanumerics, as real resource IDs look. */
export const resourceId = (prefix: string, length = 8): string => `${prefix}-${randomFrom(LOWER, length)}`;

/** `length` letters of both cases and digits, for IDs such as SSL certificate and AMS task IDs. */
export const randomAlphanumeric = (length: number): string => randomFrom(MIXED, length);

export const requestId = (): string => randomUUID();
