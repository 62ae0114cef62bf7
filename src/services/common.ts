/** Small helpers that several services share. */

/** True when `value` parses as an absolute URL with a host and one of `schemes` (written with the colon: `https:`). */
export function isUrl(value: string, schemes: readonly string[]): boolean {
  try {
    const u = new URL(value);
    return schemes.includes(u.protocol) && u.host !== '';
  } catch {
    return false;
  }
}
