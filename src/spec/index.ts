/**
 * The generated API specs (see tools/gen-spec.ts and docs/spec.md).
 */
import type { ServiceSpec } from './types';
import gaapSpec from './gaap.json';
import sslSpec from './ssl.json';
import amsSpec from './ams.json';
import tagSpec from './tag.json';
import commonErrorList from './common-errors.json';

export type { ActionSpec, FieldSpec, ScalarType, ServiceSpec } from './types';

export const specs: ServiceSpec[] = [gaapSpec as ServiceSpec, sslSpec as ServiceSpec, amsSpec as ServiceSpec, tagSpec as ServiceSpec];

/** Common error codes (公共错误码) → message, as in the GAAP API document. */
export const commonErrors: Record<string, string> = Object.fromEntries(
  (commonErrorList as { code: string; message: string }[]).map((e) => [e.code, e.message]),
);
