import { GatewayError } from '../errors/gateway-error';
import { MAX_JSON_DEPTH, parseJson } from './json-body';

describe('parseJson', () => {
  const nested = (levels: number) => `${'{"a":['.repeat(levels / 2)}1${']}'.repeat(levels / 2)}`;

  it('parses JSON nested as deep as the limit', () => {
    expect(MAX_JSON_DEPTH).toBe(64);
    expect(JSON.stringify(parseJson(nested(64), 'the request body'))).toBe(nested(64));
  });

  it('refuses JSON nested one level deeper than the limit, or 100,000 levels, naming what and the limit', () => {
    for (const text of [nested(66), `[${nested(64)}]`, '['.repeat(100_000) + ']'.repeat(100_000)]) {
      expect(() => parseJson(text, 'line 3 of the request body')).toThrow(new GatewayError(3, 'line 3 of the request body nests deeper than 64 levels'));
    }
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ text: `${'['.repeat(100)}"\\${'{'.repeat(100)}` });
    expect(parseJson(text, 'the request body')).toEqual({ text: `${'['.repeat(100)}"\\${'{'.repeat(100)}` });
  });

  it('finds the end of a string that ends in an escaped backslash, and counts what follows it', () => {
    const deep = JSON.parse(nested(64)) as unknown;
    expect(() => parseJson(JSON.stringify({ a: 'x\\', b: [deep] }), 'the request body')).toThrow('the request body nests deeper than 64 levels');
    expect(parseJson(JSON.stringify({ a: 'x\\', b: '['.repeat(100) }), 'the request body')).toEqual({ a: 'x\\', b: '['.repeat(100) });
  });

  it('counts depth, not the number of brackets', () => {
    const wide = JSON.stringify(Array.from({ length: 1000 }, () => ({ tags: [{ key: 'k', value: 'v' }] })));
    expect(parseJson(wide, 'the request body')).toHaveLength(1000);
  });

  it('refuses text that is not JSON with a 400 naming what', () => {
    expect(() => parseJson('{"text": ', 'the request body')).toThrow(/^the request body is not valid JSON: /);
  });
});
