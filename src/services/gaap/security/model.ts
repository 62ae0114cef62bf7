import { resourceNotFound } from '../../../core/errors';
import type { SecurityPolicyRuleOut } from '../../../spec/gaap.types';
import type { ResourceRecord, StoreTx } from '../../../store/types';
import { lifecycle } from '../../kit/lifecycle';
import { KIND } from '../kinds';

/** Security policies (`gaap.securitypolicy`, one per proxy or group) and their rules (`gaap.securityrule`). */

/** A policy record: the owner and status that DescribeSecurityPolicyDetail's flat output is built from (no struct of the API matches it). */
export interface PolicyData {
  PolicyId: string;
  ProxyId: string | null;
  GroupId: string | null;
  Status: string;
  DefaultAction: string;
}

export type PolicyRec = ResourceRecord<PolicyData>;

export const POLICY_T = { opened: 'securityPolicy.opened', closed: 'securityPolicy.closed' } as const;

/** A policy's status: UNBIND (closed) and BOUND (open) are at rest; the switch between them is in flight. */
export const policyLife = lifecycle<string, PolicyData, (typeof POLICY_T)[keyof typeof POLICY_T]>({
  noun: 'security policy',
  statuses: ['UNBIND', 'BINDING', 'BOUND', 'UNBINDING'],
  busy: ['BINDING', 'UNBINDING'],
  read: (rec) => rec.status ?? String(rec.data.Status ?? ''),
  write: (data, status) => ({ ...data, Status: status }),
  column: (status) => status,
});

export const busyMessage = (p: PolicyRec) => `The security policy \`${p.id}\` is ${p.status}; retry when it completes.`;

export const policyNotFound = (id: string) => resourceNotFound('security policy', id);

export async function getPolicy(tx: StoreTx, id: string): Promise<PolicyRec> {
  const rec = await tx.get<PolicyData>(KIND.securityPolicy, id);
  if (!rec) throw policyNotFound(id);
  return rec;
}

export async function policyRulesOf(tx: StoreTx, policyId: string): Promise<ResourceRecord<SecurityPolicyRuleOut>[]> {
  return (await tx.list<SecurityPolicyRuleOut>(KIND.securityRule, { parent: policyId })).items;
}

/** Removes the security policy of a proxy/group and its rules. */
export async function removePolicyOf(tx: StoreTx, ownerId: string): Promise<void> {
  const { items } = await tx.list(KIND.securityPolicy, { parent: ownerId });
  for (const p of items) {
    for (const r of (await tx.list(KIND.securityRule, { parent: p.id })).items) await tx.delete(KIND.securityRule, r.id);
    await tx.delete(KIND.securityPolicy, p.id);
  }
}
