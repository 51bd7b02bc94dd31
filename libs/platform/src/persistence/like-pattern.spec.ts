import { escapedLikePattern, globPattern } from './like-pattern';

describe('LIKE patterns', () => {
  it.each([
    ['abc', 'abc', 'abc'],
    ['a%', 'a%', 'a*'],
    ['_b_', '_b_', '?b?'],
    ['50\\%', '50\\%', '50%'],
    ['a\\_b', 'a\\_b', 'a_b'],
    ['a\\\\b', 'a\\\\b', 'a\\b'],
    ['\\x', 'x', 'x'],
    ['ends\\', 'ends\\\\', 'ends\\'],
    ['a*b?c[d]', 'a*b?c[d]', 'a[*]b[?]c[[]d]'],
    ['%é_', '%é_', '*é?'],
  ])('reads %j as %j for LIKE ... ESCAPE and %j for GLOB', (pattern, like, glob) => {
    expect(escapedLikePattern(pattern)).toBe(like);
    expect(globPattern(pattern)).toBe(glob);
  });
});
