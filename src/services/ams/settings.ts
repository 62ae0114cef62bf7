/**
 * AMS settings read from the environment at each use; checked once when the
 * service is built so a bad value stops start-up naming the variable.
 */
import { ConfigError } from '../../config';

export const AMS_AUDIO_ENV = 'TCLOCAL_AMS_AUDIO_MS';

/**
 * How long an on-demand (AUDIO) task stays RUNNING before it finishes:
 * 0 to 86400000 ms. Unset: as long as it stayed PENDING (the transition time).
 */
export function amsAudioMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[AMS_AUDIO_ENV];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || n > 86_400_000) {
    throw new ConfigError(`${AMS_AUDIO_ENV} must be an integer from 0 to 86400000 (milliseconds), got "${raw}"`);
  }
  return n;
}
