import { TokenCache } from './token-cache';

const tail = 'A'.repeat(16);

describe('TokenCache', () => {
  it('finds a token only by its whole text, not by the tail its slot is picked by', () => {
    const cache = new TokenCache<string>(10);
    cache.set(`header.payload-one.${tail}`, 'one');
    expect(cache.get(`header.payload-one.${tail}`)).toBe('one');
    expect(cache.get(`header.payload-two.${tail}`)).toBeUndefined();
    expect(cache.get(tail)).toBeUndefined();
  });

  it('keeps the later of two tokens that end alike, and forgets only the token named', () => {
    const cache = new TokenCache<string>(10);
    cache.set(`one.${tail}`, 'one');
    cache.set(`two.${tail}`, 'two');
    expect(cache.get(`one.${tail}`)).toBeUndefined();
    expect(cache.get(`two.${tail}`)).toBe('two');
    cache.delete(`one.${tail}`);
    expect(cache.get(`two.${tail}`)).toBe('two');
    cache.delete(`two.${tail}`);
    expect(cache.get(`two.${tail}`)).toBeUndefined();
  });

  it('drops the oldest token once full', () => {
    const cache = new TokenCache<number>(2);
    cache.set('token-0000000000000000-a', 0);
    cache.set('token-0000000000000000-b', 1);
    cache.set('token-0000000000000000-c', 2);
    expect(cache.get('token-0000000000000000-a')).toBeUndefined();
    expect(cache.get('token-0000000000000000-b')).toBe(1);
    expect(cache.get('token-0000000000000000-c')).toBe(2);
  });
});
