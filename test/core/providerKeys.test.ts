import { cachedKeySource, parseKeys } from '../../shared/providerKeys.ts';

describe('provider keys', () => {
  it('reads a JSON key list (rotation) or one plain key', () => {
    expect(parseKeys('{"keys": ["new", "old"]}')).toEqual(['new', 'old']);
    expect(parseKeys('  whsec_abc \n')).toEqual(['whsec_abc']);
    expect(parseKeys('')).toEqual([]);
    expect(() => parseKeys('{"key": "x"}')).toThrow(/keys/);
  });

  it('loads once per container and reloads after a signature failure at most once a minute', async () => {
    let now = 0;
    let loads = 0;
    const source = cachedKeySource(
      async () => {
        loads += 1;
        return [`key-${loads}`];
      },
      { toleranceSeconds: 300 },
      60_000,
      () => now,
    );

    expect((await source.settings()).keys).toEqual(['key-1']);
    expect((await source.settings()).keys).toEqual(['key-1']);
    now = 30_000;
    expect(await source.refresh()).toBe(false);
    expect((await source.settings()).keys).toEqual(['key-1']);
    now = 61_000;
    expect(await source.refresh()).toBe(true);
    expect((await source.settings()).keys).toEqual(['key-2']);
    expect((await source.settings()).toleranceSeconds).toBe(300);
    expect(loads).toBe(2);
  });

  it('does not cache a failed load', async () => {
    let fail = true;
    const source = cachedKeySource(async () => {
      if (fail) throw new Error('secrets unavailable');
      return ['k'];
    }, {});
    await expect(source.settings()).rejects.toThrow('secrets unavailable');
    fail = false;
    expect((await source.settings()).keys).toEqual(['k']);
  });
});

describe('a malformed key value', () => {
  it('is refused without quoting any of it', () => {
    let message = '';
    try {
      parseKeys('{"keys": ["whsec_TOPSECRETVALUE",]}');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/not valid JSON/);
    expect(message).not.toContain('TOPSECRET');
  });
});
