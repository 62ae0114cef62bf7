import { ApiError, invalidParameterValue } from '../../core/errors';

/** `value`, when given, is one of `allowed`. */
export function checkEnum<T extends string | number>(name: string, value: T | undefined, allowed: readonly T[]): void {
  if (value === undefined) return;
  if (!allowed.includes(value)) throw invalidParameterValue(name, `expected one of ${allowed.join(', ')}`);
}

/** `value`, when given, is an integer from `min` to `max`. */
export function checkInteger(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) throw invalidParameterValue(name, `expected an integer between ${min} and ${max}`);
}

/** A 0/1 switch, when given. */
export const checkFlag = (name: string, value: number | undefined): void => checkEnum(name, value, [0, 1]);

/** A TCP/UDP port (1 to 65535); `code` is what the action documents for a bad one. */
export function checkPort(name: string, port: number, code = 'InvalidParameterValue'): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ApiError(code, `The value of parameter \`${name}\` is not valid: the port ${port} is not usable (expected 1 to 65535).`);
  }
}

/** `value` upper-cased, which must then be one of `allowed` (actions that take `accept` for `ACCEPT`). */
export function upperEnum<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  const v = value.toUpperCase() as T;
  if (!allowed.includes(v)) throw invalidParameterValue(name, `expected one of ${allowed.join(', ')}`);
  return v;
}
