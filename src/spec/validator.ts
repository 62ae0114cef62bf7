import type AjvType from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { ApiError, invalidParameter, invalidParameterValue, missingParameter, unknownParameter } from '../core/errors';
import type { FieldSpec, ServiceSpec } from './types';

const SCALARS: Record<string, { type: string }> = {
  String: { type: 'string' },
  Timestamp: { type: 'string' },
  Integer: { type: 'integer' },
  Float: { type: 'number' },
  Boolean: { type: 'boolean' },
};

const TYPE_NAMES: Record<string, string> = {
  string: 'a String',
  integer: 'an Integer',
  number: 'a Float',
  boolean: 'a Boolean',
  array: 'an Array',
  object: 'an Object',
};

function fieldSchema(field: FieldSpec, service: string): object {
  const item = SCALARS[field.type] ?? { $ref: `${service}#/definitions/${field.type}` };
  return field.array ? { type: 'array', items: item } : item;
}

function objectSchema(fields: Record<string, FieldSpec>, service: string): object {
  const properties: Record<string, object> = {};
  const required: string[] = [];
  for (const [name, f] of Object.entries(fields)) {
    properties[name] = fieldSchema(f, service);
    if (f.required) required.push(name);
  }
  return { type: 'object', properties, required, additionalProperties: false };
}

/**
 * Request validators compiled from the service specs, one per action, on
 * first use (start-up stays fast). Validation coerces in place: numeric and
 * boolean strings become numbers and booleans, as form and GET requests (and
 * the documents' own JSON examples) send them.
 */
export class RequestValidator {
  private ajvInstance: AjvType | undefined;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly specs = new Map<string, ServiceSpec>();

  constructor(specs: ServiceSpec[]) {
    for (const spec of specs) this.specs.set(spec.service, spec);
  }

  /** Ajv and the structure schemas are loaded with the first request, not at start-up. */
  private get ajv(): AjvType {
    if (!this.ajvInstance) {
      const Ajv: typeof AjvType = require('ajv').default;
      this.ajvInstance = new Ajv({ coerceTypes: true, allErrors: false, strict: false, code: { optimize: true } });
      for (const spec of this.specs.values()) {
        const definitions: Record<string, object> = {};
        for (const [name, fields] of Object.entries(spec.structs)) definitions[name] = objectSchema(fields, spec.service);
        this.ajvInstance.addSchema({ $id: spec.service, definitions });
      }
    }
    return this.ajvInstance;
  }

  /** Validates (and coerces) `params` in place; throws the API error naming the parameter. */
  validate(service: string, action: string, params: Record<string, unknown>): void {
    const key = `${service}:${action}`;
    let fn = this.compiled.get(key);
    if (!fn) {
      const spec = this.specs.get(service)?.actions[action];
      if (!spec) throw new Error(`no spec for ${key}`);
      fn = this.ajv.compile(objectSchema(spec.input, service));
      this.compiled.set(key, fn);
    }
    // Looked at before Ajv coerces, so `true` and `null` are still what the caller sent;
    // reported after Ajv's own errors, which keep the documented order of checks.
    const strict = this.strictProblem(service, this.specs.get(service)!.actions[action].input, params, '');
    if (!fn(params)) throw toApiError(fn.errors![0]);
    if (strict) throw strict;
  }

  /**
   * Where the cloud is stricter than Ajv's coercion: booleans and null are
   * not numbers, numbers are not booleans, numbers are finite (and Integers
   * exact), strings carry no control characters (names not even tab or
   * newline). The first problem, naming the parameter as sent.
   */
  private strictProblem(service: string, fields: Record<string, FieldSpec>, value: Record<string, unknown>, base: string): ApiError | undefined {
    for (const name in value) {
      const field = fields[name];
      if (!field) continue; // Ajv reports unknown parameters
      const path = base ? `${base}.${name}` : name;
      const v = value[name];
      if (field.array && Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const p = this.scalarProblem(service, field, v[i], `${path}.${i}`, name);
          if (p) return p;
        }
      } else {
        const p = this.scalarProblem(service, field, v, path, name);
        if (p) return p;
      }
    }
    return undefined;
  }

  private scalarProblem(service: string, field: FieldSpec, v: unknown, path: string, name: string): ApiError | undefined {
    const expected = TYPE_NAMES[SCALARS[field.type]?.type ?? 'object'] ?? 'an Object';
    if (v === null) return invalidParameter(path, `${expected}, not null`);
    switch (field.type) {
      case 'Integer':
      case 'Float': {
        if (typeof v === 'boolean') return invalidParameter(path, `${expected}, not a Boolean`);
        const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
        if (typeof v === 'number' || !Number.isNaN(n)) {
          if (!Number.isFinite(n)) return invalidParameter(path, `a finite number`);
          if (field.type === 'Integer' && Number.isInteger(n) && !Number.isSafeInteger(n)) return invalidParameter(path, `an Integer from ${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`);
        }
        return undefined;
      }
      case 'Boolean':
        return typeof v === 'number' ? invalidParameter(path, 'a Boolean (true or false), not a number') : undefined;
      case 'String':
      case 'Timestamp':
        if (typeof v !== 'string') return undefined;
        if (CONTROL.test(v) || (NAME_FIELD.test(name) && /[\t\n\r]/.test(v))) {
          return invalidParameterValue(path, NAME_FIELD.test(name) ? 'a name may not contain control characters (tab and line breaks included)' : 'it contains a control character');
        }
        return undefined;
      default: {
        const struct = this.specs.get(service)?.structs[field.type];
        if (struct && typeof v === 'object' && !Array.isArray(v)) return this.strictProblem(service, struct, v as Record<string, unknown>, path);
        return undefined;
      }
    }
  }
}

/** C0 controls but tab and line breaks (PEM texts carry those), and DEL. */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
/** Names and aliases: one line of text (the documents give their length only). */
const NAME_FIELD = /(Name|Alias)$/;

function toApiError(e: ErrorObject): ApiError {
  const base = e.instancePath.split('/').filter(Boolean).join('.');
  const join = (name: string) => (base ? `${base}.${name}` : name);
  switch (e.keyword) {
    case 'required':
      return missingParameter(join(String(e.params.missingProperty)));
    case 'additionalProperties':
      return unknownParameter(join(String(e.params.additionalProperty)));
    case 'type':
      return invalidParameter(base || 'request', TYPE_NAMES[String(e.params.type)] ?? String(e.params.type));
    default:
      return invalidParameter(base || 'request', e.message ?? 'a valid value');
  }
}
