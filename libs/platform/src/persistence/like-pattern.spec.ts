import { escapedLikePattern, globPattern, likeCondition } from './like-pattern';

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

describe('likeCondition', () => {
  const bound: string[] = [];
  const bind = (value: string) => {
    bound.push(value);
    return `$${bound.length}`;
  };

  beforeEach(() => (bound.length = 0));

  it("is LIKE with a backslash escape on PostgreSQL, a trailing lone backslash made literal (PostgreSQL refuses it)", () => {
    expect(likeCondition('name', 'churn%', 'postgres', bind)).toBe("name LIKE $1 ESCAPE '\\'");
    likeCondition('name', 'a\\', 'postgres', bind);
    expect(bound).toEqual(['churn%', 'a\\\\']);
  });

  it('is GLOB on SQLite, case-sensitive, wildcards and escapes translated', () => {
    expect(likeCondition('name', 'Ch_rn%', 'sqlite', bind)).toBe('name GLOB $1');
    likeCondition('name', 'a\\%b[', 'sqlite', bind);
    expect(bound).toEqual(['Ch?rn*', 'a%b[[]']);
  });
});
