import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLocalKeys } from '../../local/localKeys.ts';

/** The message of what `run` throws (fails the test when it throws nothing). */
function thrownBy(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : String(error);
  }
  throw new Error('expected it to throw');
}

describe('local keys with malformed JSON', () => {
  const secret = 'whsec_DoNotPrintMe0123456789';
  const dir = mkdtempSync(join(tmpdir(), 'webhook-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the variable, never quotes its value', () => {
    const message = thrownBy(() =>
      loadLocalKeys(join(dir, 'unused.json'), { APARA_VERIFY_KEYS: `["${secret}", ${secret}]` }),
    );

    expect(message).toContain('APARA_VERIFY_KEYS');
    expect(message).not.toContain('whsec_');
  });

  it('names the key file, never quotes its content', () => {
    const file = join(dir, 'keys.json');
    writeFileSync(file, `{"apara": {"signingKey": ${secret}}}`);

    const message = thrownBy(() => loadLocalKeys(file, {}));

    expect(message).toContain(file);
    expect(message).not.toContain('whsec_');
  });
});
