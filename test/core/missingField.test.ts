import * as v from 'valibot';
import { describeIssues } from '../../shared/core/intake.ts';

describe('describeIssues on a required field that is absent', () => {
  it('says the field is missing, not that its own name was expected', () => {
    const schema = v.object({ entityId: v.string(), order: v.object({ amount: v.string() }) });
    const result = v.safeParse(schema, { order: {} });

    expect(result.success).toBe(false);
    expect(describeIssues(result.issues ?? [])).toBe('entityId: missing; order.amount: missing');
  });
});
