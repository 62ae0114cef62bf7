/**
 * How a setting is declared: its flag, its TCLOCAL_* environment twin, its
 * default and its check. `src/config.ts` declares the server's own settings
 * and gathers the ones each service module declares; the CLI help and the
 * README table come from that one list.
 */

export class ConfigError extends Error {}

export interface SettingDef<T = unknown> {
  flag: string;
  env: string;
  arg?: string;
  default: string;
  /** How --help and the README show an empty or derived default. */
  defaultLabel?: string;
  help: string;
  parse(raw: string, name: string): T;
}

/** The values of a set of setting declarations. */
export type SettingValues<D> = { [K in keyof D]: D[K] extends SettingDef<infer T> ? T : never };

export const oneOf =
  <T extends string>(...values: T[]) =>
  (raw: string, name: string): T => {
    if (!(values as string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  };

export const integer = (min: number, max: number) => (raw: string, name: string): number => {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
};

export const bool = (raw: string, name: string): boolean => {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be on/off (or 1/0, true/false), got "${raw}"`);
};

export const decimal = (min: number, max: number) => (raw: string, name: string): number => {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new ConfigError(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
  return n;
};
