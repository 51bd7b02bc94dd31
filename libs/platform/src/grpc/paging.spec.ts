import { status } from '@grpc/grpc-js';
import { decodePageToken, encodePageToken, pageOf, pageSizeOf, SEQUENCE_POSITION } from './paging';

describe('paging', () => {
  it('reads page_size: 0 is the default, up to 1000, and nothing else', () => {
    expect(pageSizeOf(0)).toBe(100);
    expect(pageSizeOf(1000)).toBe(1000);
    for (const bad of [-1, 1001, 2.5]) {
      expect(() => pageSizeOf(bad)).toThrow(expect.objectContaining({ code: status.INVALID_ARGUMENT, message: 'page_size: must be between 0 and 1000' }));
    }
  });

  it('round-trips a position for the same filters and refuses it for others', () => {
    const token = encodePageToken('42', { project: 'p1', state: null });
    expect(decodePageToken(token, { state: null, project: 'p1' })).toBe('42');
    expect(() => decodePageToken(token, { project: 'p2', state: null })).toThrow('page_token: belongs to a listing with other filters; start again without it');
    expect(decodePageToken('', {})).toBeUndefined();
  });

  it('refuses a position that does not look like what the list sorts by', () => {
    expect(decodePageToken(encodePageToken('17'), {}, SEQUENCE_POSITION)).toBe('17');
    expect(() => decodePageToken(encodePageToken('1e3'), {}, SEQUENCE_POSITION)).toThrow(/^page_token: /);
  });

  it('cuts a page from rows read one past its size, with a token only when more follow', () => {
    const more = pageOf([1, 2, 3], 2, String, { q: 1 });
    expect(more.items).toEqual([1, 2]);
    expect(decodePageToken(more.nextPageToken, { q: 1 })).toBe('2');
    expect(pageOf([1, 2], 2, String)).toEqual({ items: [1, 2], nextPageToken: '' });
  });

  it('refuses tokens it did not make', () => {
    for (const bad of ['x', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('not json').toString('base64url')]) {
      expect(() => decodePageToken(bad)).toThrow('page_token: is not a token a previous page of this list returned');
    }
  });
});
