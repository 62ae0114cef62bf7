import type { FieldSpec, ServiceSpec } from './types';

/**
 * Fields the real service answers as null although the model does not mark
 * them nullable, and that real clients depend on being null.
 */
export const KNOWN_NULLS: ReadonlyArray<{ service: string; struct: string; field: string; why: string }> = [
  // Basic-auth files have no validity; Terraform's acceptance tests read the
  // detail and expect no begin/end time (the list answers 0 instead).
  { service: 'gaap', struct: 'CertificateDetail', field: 'BeginTime', why: 'basic-auth file' },
  { service: 'gaap', struct: 'CertificateDetail', field: 'EndTime', why: 'basic-auth file' },
];

const knownNull = (service: string, struct: string, field: string) =>
  KNOWN_NULLS.some((k) => k.service === service && k.struct === struct && k.field === field);

/**
 * Differences between a response and the action's output model (which a
 * test keeps equal to the official SDK's models): absent fields (a real
 * answer lists every field of its model), nulls where the model does not
 * allow them, wrong JSON types, fields the model lacks. Empty when it matches.
 */
export function responseProblems(spec: ServiceSpec, action: string, response: Record<string, unknown>): string[] {
  const actionSpec = spec.actions[action];
  if (!actionSpec) return [`no action ${spec.service}.${action}`];
  const problems: string[] = [];
  checkObject(spec, '', actionSpec.output, response, '', problems);
  return problems;
}

function check(spec: ServiceSpec, field: FieldSpec, value: unknown, path: string, problems: string[], nullOk = false): void {
  if (value === undefined) {
    problems.push(`${path} is missing`);
    return;
  }
  if (value === null) {
    if (!field.nullable && !nullOk) problems.push(`${path} is null`);
    return;
  }
  if (field.array) {
    if (!Array.isArray(value)) {
      problems.push(`${path} should be an array`);
      return;
    }
    value.forEach((v, i) => check(spec, { ...field, array: false, required: true }, v, `${path}.${i}`, problems));
    return;
  }
  switch (field.type) {
    case 'String':
    case 'Timestamp':
      if (typeof value !== 'string') problems.push(`${path} should be a string, got ${JSON.stringify(value)}`);
      return;
    case 'Integer':
      if (!Number.isInteger(value)) problems.push(`${path} should be an integer, got ${JSON.stringify(value)}`);
      return;
    case 'Float':
      if (typeof value !== 'number') problems.push(`${path} should be a number, got ${JSON.stringify(value)}`);
      return;
    case 'Boolean':
      if (typeof value !== 'boolean') problems.push(`${path} should be a boolean, got ${JSON.stringify(value)}`);
      return;
    default: {
      const struct = spec.structs[field.type];
      if (!struct) {
        problems.push(`${path}: unknown type ${field.type}`);
        return;
      }
      if (typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${path} should be an object (${field.type})`);
        return;
      }
      checkObject(spec, field.type, struct, value as Record<string, unknown>, path, problems);
    }
  }
}

function checkObject(spec: ServiceSpec, struct: string, fields: Record<string, FieldSpec>, value: Record<string, unknown>, path: string, problems: string[]): void {
  for (const [name, f] of Object.entries(fields)) {
    check(spec, f, value[name], path ? `${path}.${name}` : name, problems, knownNull(spec.service, struct, name));
  }
  for (const name of Object.keys(value)) {
    if (!Object.hasOwn(fields, name)) problems.push(`${path ? path + '.' : ''}${name} is not in the model`);
  }
}
