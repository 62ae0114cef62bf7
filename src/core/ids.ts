import { randomBytes, randomUUID } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `prefix-` followed by `length` lowercase alphanumerics, as real resource IDs look. */
export function resourceId(prefix: string, length = 8): string {
  const bytes = randomBytes(length);
  let out = prefix + '-';
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i] % ALPHABET.length];
  return out;
}

export const requestId = (): string => randomUUID();
