/**
 * SSL settings read from the environment. Read at each use so a test can
 * change them between calls; checked once when the service is built so a
 * bad value stops start-up with a message naming the variable.
 */
import { ConfigError } from '../../config';

export const SSL_REVIEW_ENV = 'TCLOCAL_SSL_REVIEW_MS';
export const DEFAULT_SSL_REVIEW_MS = 30_000;

/**
 * How long a free certificate stays under review (Status 0 or 4) before it is
 * issued on its own: 0 to 86400000 ms, default 30000.
 */
export function sslReviewMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[SSL_REVIEW_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_SSL_REVIEW_MS;
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || n > 86_400_000) {
    throw new ConfigError(`${SSL_REVIEW_ENV} must be an integer from 0 to 86400000 (milliseconds), got "${raw}"`);
  }
  return n;
}
