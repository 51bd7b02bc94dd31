import { InvalidArgumentError } from './domain-errors';
import { checkNoControlCharacters, checkNoNul, checkUpdateMask } from './field-checks';

const messageOf = (check: () => void) => {
  try {
    check();
  } catch (error) {
    if (error instanceof InvalidArgumentError) return error.message;
    throw error;
  }
  return undefined;
};

describe('checkNoControlCharacters', () => {
  it.each([
    ['a\0b', 'name: contains the control character U+0000 at position 1; a name may not contain control characters'],
    ['line\nbreak', 'name: contains the control character U+000A at position 4; a name may not contain control characters'],
    ['\u001b[31mred', 'name: contains the control character U+001B at position 0; a name may not contain control characters'],
    ['del\u007f', 'name: contains the control character U+007F at position 3; a name may not contain control characters'],
  ])('refuses %j naming the field, the character and its position', (value, message) => {
    expect(messageOf(() => checkNoControlCharacters(value, 'name'))).toBe(message);
  });

  it('accepts names with spaces, punctuation and any other script', () => {
    expect(messageOf(() => checkNoControlCharacters('churn model v2 (ünïcode, 日本語) - ok!', 'name'))).toBeUndefined();
  });
});

describe('checkNoNul', () => {
  it('refuses a NUL anywhere, naming the field and its position', () => {
    expect(messageOf(() => checkNoNul('value\0', 'tags[2].value'))).toBe('tags[2].value: contains a NUL character (U+0000) at position 5, which cannot be stored');
  });

  it('accepts line breaks, tabs and other control characters in free text', () => {
    expect(messageOf(() => checkNoNul('first line\nsecond\tcolumn\r\n\u001b', 'description'))).toBeUndefined();
  });
});

describe('checkUpdateMask', () => {
  const updatable = ['description', 'tags'] as const;

  it('returns the named fields, or every updatable field for "*"', () => {
    expect([...checkUpdateMask(['tags'], updatable)]).toEqual(['tags']);
    expect([...checkUpdateMask(['*'], updatable)]).toEqual(['description', 'tags']);
  });

  it('refuses an empty mask, listing what can be changed', () => {
    expect(() => checkUpdateMask([], updatable)).toThrow('update_mask: name the fields to change: description, tags');
  });

  it('refuses a field that cannot be changed, naming it', () => {
    expect(() => checkUpdateMask(['description', 'id'], updatable)).toThrow('update_mask: "id" cannot be changed; the fields are description, tags');
    expect(() => checkUpdateMask(['*', 'tags'], updatable)).toThrow('"*" cannot be changed');
  });
});
