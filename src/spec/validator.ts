import type AjvType from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { ApiError, invalidParameter, missingParameter, unknownParameter } from '../core/errors';
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
    if (!fn(params)) throw toApiError(fn.errors![0]);
  }
}

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
