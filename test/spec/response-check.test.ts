/**
 * The development response check: a real answer lists every field of its
 * model, with null only where the model allows it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { specs } from '../../src/spec';
import { responseProblems } from '../../src/spec/response-check';

const gaap = specs.find((s) => s.service === 'gaap')!;
const checkParams = { DelayLoop: 5, ConnectTimeout: 2, Path: '/', Method: 'HEAD', StatusCode: [200], Domain: 'a.example.com', FailedCountInter: 60, FailedThreshold: 5, BlockInter: 600 };
const rule = {
  RuleId: 'rule-1', ListenerId: 'listener-1', Domain: 'a.example.com', Path: '/', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 1, RuleStatus: 0,
  CheckParams: checkParams, RealServerSet: [], BindStatus: 0, ForwardHost: 'default', ServerNameIndicationSwitch: 'OFF', ServerNameIndication: '', ForcedRedirect: '', ForwardProtocol: 'HTTP',
};
const problems = (r: Record<string, unknown>) => responseProblems(gaap, 'DescribeRulesByRuleIds', { RuleSet: [r], TotalCount: 1 });

describe('response check', () => {
  it('accepts a whole answer', () => {
    assert.deepEqual(problems(rule), []);
  });

  it('flags absent fields, also those a request may leave out', () => {
    const { ForwardProtocol: _f, ...noProtocol } = rule;
    assert.deepEqual(problems(noProtocol), ['RuleSet.0.ForwardProtocol is missing']);
    const { FailedCountInter: _c, ...params } = checkParams;
    assert.deepEqual(problems({ ...rule, CheckParams: params }), ['RuleSet.0.CheckParams.FailedCountInter is missing']);
  });

  it('allows null only where the model does', () => {
    // ServerNameIndication may be null ("此字段可能返回 null"); Path may not.
    assert.deepEqual(problems({ ...rule, ServerNameIndication: null }), []);
    assert.deepEqual(problems({ ...rule, Path: null }), ['RuleSet.0.Path is null']);
    const cert = { CertificateId: 'cert-1', CertificateName: '', CertificateType: 0, CertificateAlias: '', CreateTime: 1, BeginTime: null, EndTime: 0, IssuerCN: '', SubjectCN: '' };
    assert.deepEqual(responseProblems(gaap, 'DescribeCertificates', { CertificateSet: [cert], TotalCount: 1 }), ['CertificateSet.0.BeginTime is null']);
  });
});
