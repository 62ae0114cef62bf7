/**
 * A URL path percent-decoded (`/caf%C3%A9` is `/café`), or as written when it
 * is not valid encoding. Rule paths and request paths are compared in this
 * form, so a rule matches however either side chose to encode.
 */
export function percentDecoded(path: string): string {
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
