/**
 * Checks a response against the action's output in the API spec (which a
 * test keeps equal to the official SDK's response models): every
 * non-nullable field present, JSON types right, no field the model lacks.
 */
import assert from 'node:assert/strict';
import { specs } from '../../src/spec';
import type { FieldSpec, ServiceSpec } from '../../src/spec/types';

const byName = new Map<string, ServiceSpec>(specs.map((s) => [s.service, s]));

function check(spec: ServiceSpec, field: FieldSpec, value: unknown, path: string, problems: string[]): void {
  if (value === null || value === undefined) {
    if (field.required && !field.nullable) problems.push(`${path} is ${value === null ? 'null' : 'missing'}`);
    return;
  }
  if (field.array) {
    if (!Array.isArray(value)) {
      problems.push(`${path} should be an array`);
      return;
    }
    value.forEach((v, i) => check(spec, { ...field, array: false, required: true, nullable: field.nullable }, v, `${path}.${i}`, problems));
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
      checkObject(spec, struct, value as Record<string, unknown>, path, problems);
    }
  }
}

function checkObject(spec: ServiceSpec, fields: Record<string, FieldSpec>, value: Record<string, unknown>, path: string, problems: string[]): void {
  for (const [name, f] of Object.entries(fields)) check(spec, f, value[name], path ? `${path}.${name}` : name, problems);
  for (const name of Object.keys(value)) {
    if (!(name in fields) && !(path === '' && name === 'RequestId')) problems.push(`${path ? path + '.' : ''}${name} is not in the model`);
  }
}

/** Throws listing every difference between `response` and the model of `service`.`action`. */
export function assertResponseShape(service: string, action: string, response: Record<string, unknown>): void {
  const spec = byName.get(service);
  assert.ok(spec, `no spec for ${service}`);
  const actionSpec = spec.actions[action];
  assert.ok(actionSpec, `no action ${service}.${action}`);
  const problems: string[] = [];
  checkObject(spec, actionSpec.output, response, '', problems);
  assert.deepEqual(problems, [], `${service}.${action} response does not match its model:\n  ${problems.join('\n  ')}`);
}
