/**
 * Checks a response against the action's output in the API spec (which a
 * test keeps equal to the official SDK's response models): every field
 * present, null only where the model allows it, JSON types right, no field
 * the model lacks.
 */
import assert from 'node:assert/strict';
import { specs } from '../../src/spec';
import { responseProblems } from '../../src/spec/response-check';

/** Throws listing every difference between `response` (RequestId aside) and the model of `service`.`action`. */
export function assertResponseShape(service: string, action: string, response: Record<string, unknown>): void {
  const spec = specs.find((s) => s.service === service);
  assert.ok(spec, `no spec for ${service}`);
  const { RequestId: _requestId, ...rest } = response;
  const problems = responseProblems(spec, action, rest);
  assert.deepEqual(problems, [], `${service}.${action} response does not match its model:\n  ${problems.join('\n  ')}`);
}
