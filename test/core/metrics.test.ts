import { KEY_REJECTION_REASONS, REJECTION_REASONS, reasonDimension } from '../../shared/metrics.ts';

describe('the reason dimension of rejections', () => {
  it('keeps every known reason and folds anything else into `other`, so the metric count is bounded', () => {
    for (const reason of REJECTION_REASONS) expect(reasonDimension(reason)).toBe(reason);
    for (const unknown of [
      '',
      'bad signature',
      'EVENT_ID_MISMATCH: body event_id "x"',
      'x'.repeat(300),
      'constructor',
    ]) {
      expect(reasonDimension(unknown)).toBe('other');
    }
    expect(new Set(REJECTION_REASONS.map(reasonDimension)).size).toBe(REJECTION_REASONS.length);
  });

  it('watches only reasons the closed set holds', () => {
    for (const reason of KEY_REJECTION_REASONS) expect(REJECTION_REASONS).toContain(reason);
  });
});
