/**
 * Writes shared/core/iso4217.generated.ts from the `currency-codes` package (ISO 4217, maintained
 * upstream), keeping only code, numeric code and minor-unit exponent: the full package carries
 * country lists that would cost bundle size and cold start on every Lambda.
 * Run: npx tsx scripts/gen-iso4217.ts   (test/core/iso4217.test.ts fails when the file drifts)
 */
import { writeFileSync } from 'node:fs';
import { iso4217Source } from '../shared/core/iso4217Source.ts';

writeFileSync(new URL('../shared/core/iso4217.generated.ts', import.meta.url), iso4217Source());
