import { likeCondition } from './like-pattern';

describe('likeCondition', () => {
  const bound: string[] = [];
  const bind = (value: string) => {
    bound.push(value);
    return `$${bound.length}`;
  };

  beforeEach(() => (bound.length = 0));

  it('keeps a pattern as it is on PostgreSQL, but makes a trailing lone backslash a literal one (PostgreSQL refuses it)', () => {
    expect(likeCondition('name', 'churn%', 'postgres', bind)).toBe("name LIKE $1 ESCAPE '\\'");
    likeCondition('name', 'a\\', 'postgres', bind);
    likeCondition('name', 'a\\\\', 'postgres', bind);
    likeCondition('name', 'a\\\\\\', 'postgres', bind);
    expect(bound).toEqual(['churn%', 'a\\\\', 'a\\\\', 'a\\\\\\\\']);
  });

  it('matches case-sensitively on SQLite with GLOB, wildcards and escapes translated', () => {
    expect(likeCondition('name', 'Ch_rn%', 'sqlite', bind)).toBe('name GLOB $1');
    likeCondition('name', 'a\\%b[', 'sqlite', bind);
    expect(bound).toEqual(['Ch?rn*', 'a%b[[]']);
  });
});
