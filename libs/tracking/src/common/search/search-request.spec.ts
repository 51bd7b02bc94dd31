import { encodePageToken, InvalidArgumentError } from '@trellis/platform';
import { offsetOf, offsetPage } from './search-request';

describe('search paging', () => {
  const listing = { filter: '[]', view: 'active' };

  it('continues from the offset the previous page ended at', () => {
    const { items, nextPageToken } = offsetPage(['a', 'b', 'c'], 2, 40, listing);
    expect(items).toEqual(['a', 'b']);
    expect(offsetOf(nextPageToken, listing)).toBe(42);
    expect(offsetPage(['a', 'b'], 2, 40, listing).nextPageToken).toBe('');
  });

  it.each(['0', '-5', '1.5', '1'.repeat(16), 'x'])('refuses a token forged with the offset %j', (offset) => {
    expect(() => offsetOf(encodePageToken(offset, listing), listing)).toThrow(InvalidArgumentError);
  });
});
