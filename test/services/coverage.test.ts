/**
 * Coverage made visible: COVERAGE.md is generated from the specs and the
 * registered handlers, and every GAAP action must have a handler.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { coverageMarkdown, coverageReport } from '../../src/services/coverage';
import { serviceModules } from '../../src/services';
import { ciOperations } from '../../src/services/ci';

describe('coverage', () => {
  const report = coverageReport(serviceModules());

  it('every action of every emulated API 3.0 product has a handler', () => {
    for (const s of report.services) {
      const missing = s.actions.filter((a) => !a.implemented).map((a) => a.action);
      assert.deepEqual(missing, [], `${s.service} lacks handlers for ${missing.join(', ')}`);
    }
    assert.equal(report.services.find((s) => s.service === 'gaap')?.total, 102);
  });

  it('COVERAGE.md is up to date (npx tclocal coverage --write)', () => {
    const committed = readFileSync(resolve(__dirname, '../../../COVERAGE.md'), 'utf8');
    assert.equal(committed, coverageMarkdown(report, [ciOperations()]));
  });

  it('marks the actions that are answered but change nothing', () => {
    const gaap = report.services.find((s) => s.service === 'gaap')!;
    const noops = gaap.actions.filter((a) => a.noop).map((a) => a.action);
    assert.deepEqual(noops, ['BanAndRecoverProxy', 'DescribeAuthSignature', 'DescribeCrossBorderProxies']);
    assert.match(coverageMarkdown(report), /\| BanAndRecoverProxy \| accepted, does nothing \|/);
    assert.match(coverageMarkdown(report), /\| CreateProxy \| yes \|/);
  });
});
