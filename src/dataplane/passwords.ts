/**
 * Checking a password against one line of a basic-authentication file, in
 * the formats the `htpasswd` and `openssl passwd` commands write (the tools
 * the document names) and the ones nginx reads besides: bcrypt ($2a$, $2b$,
 * $2y$), MD5-crypt ($1$ and Apache's $apr1$), SHA-crypt ($5$ and $6$, with
 * `rounds=`), traditional DES crypt (13 characters), {SHA}, {SSHA} and
 * {PLAIN}. Anything else never matches.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import apacheMd5 from 'apache-md5';
import bcrypt from 'bcryptjs';
import desCrypt from 'unix-crypt-td-js';

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The password's UTF-8 bytes as a one-byte-per-character string, which the MD5 and DES packages hash byte by byte. */
const bytes = (password: string): string => Buffer.from(password, 'utf8').toString('latin1');

/** Whether `password` matches `hash`. bcrypt is costly and runs asynchronously; the other formats answer at once. */
export function passwordMatches(password: string, hash: string): boolean | Promise<boolean> {
  if (/^\$2[abxy]\$\d\d\$/.test(hash)) return bcrypt.compare(password, hash).catch(() => false);
  if (hash.startsWith('$apr1$') || hash.startsWith('$1$')) return sameText(apacheMd5(bytes(password), hash), hash);
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return sameText(shaCrypt(password, hash) ?? '', hash);
  if (hash.startsWith('{SHA}')) return sameText(createHash('sha1').update(password).digest('base64'), hash.slice(5));
  if (hash.startsWith('{SSHA}')) {
    const raw = Buffer.from(hash.slice(6), 'base64');
    if (raw.length <= 20) return false;
    const salt = raw.subarray(20);
    return timingSafeEqual(createHash('sha1').update(password).update(salt).digest(), raw.subarray(0, 20));
  }
  if (hash.startsWith('{PLAIN}')) return sameText(password, hash.slice(7));
  if (/^[./0-9A-Za-z]{13}$/.test(hash)) return sameText(desCrypt(bytes(password), hash.slice(0, 2)), hash);
  return false;
}

const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `count` characters of the crypt alphabet from a 24-bit group, least significant first. */
function encode24(b2: number, b1: number, b0: number, count: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < count; i++) {
    out += CRYPT_ALPHABET[w & 0x3f];
    w >>= 6;
  }
  return out;
}

/** A digest of `length` bytes made of `block` repeated (and cut). */
const repeated = (block: Buffer, length: number): Buffer => Buffer.concat(Array(Math.ceil(length / block.length) || 1).fill(block)).subarray(0, length);

/**
 * SHA-crypt ($5$ SHA-256, $6$ SHA-512) as specified by its author (Ulrich
 * Drepper, "Unix crypt using SHA-256 and SHA-512"): the hash `setting`'s
 * salt and rounds, recomputed for `password`; undefined for a malformed
 * setting. Written here because the maintained package for it ships only
 * as an ES module, which this CommonJS build cannot load.
 */
export function shaCrypt(password: string, setting: string): string | undefined {
  const m = /^\$([56])\$(?:rounds=(\d+)\$)?([^$]*)/.exec(setting);
  if (!m) return undefined;
  const algorithm = m[1] === '5' ? 'sha256' : 'sha512';
  const size = m[1] === '5' ? 32 : 64;
  const rounds = m[2] === undefined ? 5000 : Math.min(999_999_999, Math.max(1000, Number(m[2])));
  const salt = Buffer.from(m[3].slice(0, 16));
  const pw = Buffer.from(password);
  const digest = (...parts: Buffer[]) => {
    const h = createHash(algorithm);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const b = digest(pw, salt, pw);
  const a = createHash(algorithm).update(pw).update(salt).update(repeated(b, pw.length));
  for (let n = pw.length; n > 0; n >>= 1) a.update(n & 1 ? b : pw);
  let c = a.digest();
  const p = repeated(digest(...Array(pw.length).fill(pw)), pw.length);
  const s = repeated(digest(...Array(16 + c[0]).fill(salt)), salt.length);
  for (let i = 0; i < rounds; i++) {
    const h = createHash(algorithm).update(i & 1 ? p : c);
    if (i % 3) h.update(s);
    if (i % 7) h.update(p);
    c = h.update(i & 1 ? c : p).digest();
  }
  // Output groups: bytes k, k+n and k+2n (n = a third of the digest), in an order that turns with k.
  const third = size === 32 ? 10 : 21;
  let text = '';
  for (let k = 0; k < third; k++) {
    const [x, y, z] = [c[k], c[k + third], c[k + 2 * third]];
    const turn = k % 3;
    if (turn === 0) text += encode24(x, y, z, 4);
    else if ((turn === 1) === (size === 32)) text += encode24(z, x, y, 4);
    else text += encode24(y, z, x, 4);
  }
  text += size === 32 ? encode24(0, c[31], c[30], 3) : encode24(0, 0, c[63], 2);
  return `$${m[1]}$${m[2] === undefined ? '' : `rounds=${rounds}$`}${salt.toString()}$${text}`;
}
