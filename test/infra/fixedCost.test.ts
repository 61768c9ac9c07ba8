import { readFileSync } from 'node:fs';
import { fixedCostTable, fixedMonthlyCost, synthesizedResources } from '../../scripts/fixed-cost.ts';
import { REJECTION_REASONS } from '../../shared/metrics.ts';
import { PROVIDER_NAMES } from '../../shared/providers/registry.ts';

/** A markdown table's cells, trimmed, so column padding does not matter. */
const cells = (table: string) =>
  table
    .split('\n')
    .filter((line) => line.trim().startsWith('|'))
    .map((line) =>
      line
        .trim()
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim().replace(/^(:?)-+(:?)$/, '$1-$2')),
    );

describe('the fixed monthly cost per stage', () => {
  const resources = synthesizedResources('dev');
  const cost = fixedMonthlyCost(resources);
  const count = (type: string) => Object.values(resources).filter((r) => r.Type === type).length;

  it('counts the alarms, dashboards, secrets and keys of the synthesized stack', () => {
    expect(cost).toMatchObject({
      alarms: count('AWS::CloudWatch::Alarm'),
      dashboards: count('AWS::CloudWatch::Dashboard'),
      secrets: count('AWS::SecretsManager::Secret'),
      kmsKeys: count('AWS::KMS::Key'),
    });
    expect(cost.alarms).toBeGreaterThan(0);
    // Metric-math alarms read more than one metric each.
    expect(cost.alarmMetrics).toBeGreaterThan(cost.alarms);
    expect(cost.reasonMetricsAtMost).toBe(PROVIDER_NAMES.length * REJECTION_REASONS.length);
    expect(cost.fixedTotal).toBeCloseTo(
      Object.values(cost.dollars).reduce((a, b) => a + b, 0),
      2,
    );
  });

  it('is the table docs/COST.md shows', () => {
    const page = readFileSync(new URL('../../docs/COST.md', import.meta.url), 'utf8');
    const section = page.slice(page.indexOf('## Fixed monthly cost per stage'));
    const expected = cells(fixedCostTable(cost));
    const shown = cells(section).slice(0, expected.length);
    expect(shown).toEqual(expected);
  });
});
