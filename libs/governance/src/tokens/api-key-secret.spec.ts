import { newApiKey, parseApiKey } from './api-key-secret';

describe('API key secrets', () => {
  const id = '0123456789abcdef';

  it('parses a new key back into its id and its 43-character random part', () => {
    const { id: newId, secret } = newApiKey();
    const parsed = parseApiKey(secret);
    expect(parsed?.id).toBe(newId);
    expect(`trellis_${parsed?.id}_${parsed?.random}`).toBe(secret);
  });

  it('keeps _ and - of the base64url random part in it, wherever they fall', () => {
    for (const random of [`_${'A'.repeat(42)}`, `${'A'.repeat(42)}_`, `-_${'Z'.repeat(39)}_-`, '_'.repeat(43)]) {
      expect(parseApiKey(`trellis_${id}_${random}`)).toEqual({ id, random });
    }
  });

  it.each([
    ['no prefix', `${id}_${'A'.repeat(43)}`],
    ['an id that is not 16 hex digits', `trellis_0123456789ABCDEF_${'A'.repeat(43)}`],
    ['a short random part', `trellis_${id}_${'A'.repeat(42)}`],
    ['a long random part', `trellis_${id}_${'A'.repeat(44)}`],
    ['a character outside base64url', `trellis_${id}_${'A'.repeat(42)}+`],
  ])('refuses a key with %s', (_, secret) => {
    expect(parseApiKey(secret)).toBeUndefined();
  });
});
