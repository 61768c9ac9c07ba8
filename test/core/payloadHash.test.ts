import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { parseJson } from '../../shared/core/losslessJson.ts';
import { hashOfCanonical, payloadHash } from '../../shared/core/payloadHash.ts';

/** How the hash was computed before (stored hashes of earlier deployments were made this way). */
const earlierHash = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

describe('payload hash', () => {
  it('is the same bytes as the streaming SHA-256 it replaced, for any text (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })),
        (text) => {
          expect(hashOfCanonical(text)).toBe(earlierHash(text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('keeps a stored hash: a known payload hashes to the value an earlier deployment stored', () => {
    const payload = parseJson('{"b":1.50,"a":"x","c":[1e21,-0]}');
    expect(payloadHash(payload)).toBe(earlierHash('{"a":"x","b":1.50,"c":[1e21,-0]}'));
    expect(payloadHash(payload)).toBe('2UbeXxYEzu0CrwI1I7K46q');
  });
});
