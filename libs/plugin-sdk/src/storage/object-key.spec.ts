import { InvalidKeyError } from '../errors';
import { compareKeys, validateObjectKey } from './object-key';

describe('validateObjectKey', () => {
  it.each(['a', 'models/churn/v3/model.onnx', 'données/模型/😀.bin', 'a..b/c.d', '.hidden/x', 'x'.repeat(255), `${'a/'.repeat(511)}b`])(
    'accepts %j',
    (key) => {
      expect(() => validateObjectKey(key)).not.toThrow();
    },
  );

  it.each([
    ['', 'a key may not be empty'],
    ['../x', "a key may not contain '.' or '..' segments"],
    ['a/./b', "a key may not contain '.' or '..' segments"],
    ['/abs', "a key may not start with '/': keys are relative to the store"],
    ['C:/x', "a key may not start with a drive letter ('C:')"],
    ['a\0b', 'a key may not contain NUL bytes'],
    ['a\nb', 'a key may not contain control characters'],
    ['a\\b', "a key may not contain backslashes; separate segments with '/'"],
    ['a//b', "a key may not contain empty segments ('//' or a trailing '/')"],
    ['a/', "a key may not contain empty segments ('//' or a trailing '/')"],
    ['\uD800x', 'a key must be valid Unicode (it contains a lone surrogate)'],
    ['x'.repeat(256), "each '/'-separated segment may be at most 255 bytes of UTF-8"],
    [`${'a/'.repeat(512)}b`, 'a key may be at most 1024 bytes of UTF-8'],
  ])('refuses %j: %s', (key, reason) => {
    const refusal = (() => {
      try {
        validateObjectKey(key);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(refusal).toBeInstanceOf(InvalidKeyError);
    expect(refusal).toMatchObject({ key, reason, code: 'INVALID_KEY', message: `invalid object key ${JSON.stringify(key)}: ${reason}` });
  });

  it('refuses a key that is not a string', () => {
    expect(() => validateObjectKey(42)).toThrow('a key must be a string');
  });
});

describe('compareKeys', () => {
  it('orders by UTF-8 bytes, not UTF-16 code units', () => {
    const keys = ['z/😀', 'z/\uFFFD', 'a/b', 'a-c', 'Z'];
    expect([...keys].sort()).toEqual(['Z', 'a-c', 'a/b', 'z/😀', 'z/\uFFFD']);
    expect([...keys].sort(compareKeys)).toEqual(['Z', 'a-c', 'a/b', 'z/\uFFFD', 'z/😀']);
  });
});
