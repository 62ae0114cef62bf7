import { invalidParameterValue } from '../../core/errors';

/** How one Describe action pages: its documented default and bounds of `Limit`. */
export interface PageRules {
  /** Limit when none is given (20 unless the action documents another). */
  defaultLimit?: number;
  /** Smallest Limit accepted (0 unless the action documents another). */
  minLimit?: number;
  /** Largest Limit; unbounded when absent. */
  maxLimit?: number;
  /** A Limit above maxLimit is refused (default) or lowered to it. */
  overMax?: 'reject' | 'clamp';
  /** A Limit of 0 means the default (SSL), rather than an empty page. */
  zeroIsDefault?: boolean;
}

export interface Page {
  offset: number;
  limit: number;
}

/** Offset and Limit of a Describe call, checked against the action's rules. */
export function paging(input: { Offset?: number; Limit?: number }, rules: PageRules = {}): Page {
  const { defaultLimit = 20, minLimit = 0, maxLimit, overMax = 'reject', zeroIsDefault = false } = rules;
  const offset = input.Offset ?? 0;
  let limit = input.Limit ?? defaultLimit;
  if (!Number.isInteger(offset) || offset < 0) throw invalidParameterValue('Offset', 'expected a non-negative integer');
  if (limit === 0 && zeroIsDefault) limit = defaultLimit;
  const range = maxLimit === undefined || overMax === 'clamp' ? `at least ${minLimit}` : `from ${minLimit} to ${maxLimit}`;
  if (!Number.isInteger(limit) || limit < minLimit) throw invalidParameterValue('Limit', `expected an integer ${range}`);
  if (maxLimit !== undefined && limit > maxLimit) {
    if (overMax === 'clamp') limit = maxLimit;
    else throw invalidParameterValue('Limit', `expected an integer ${range}`);
  }
  return { offset, limit };
}
