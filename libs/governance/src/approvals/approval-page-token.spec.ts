import { InvalidArgumentError } from '@trellis/platform';
import { decodePageToken, encodePageToken } from './approval-page-token';

describe('approval page tokens', () => {
  it('round-trips the position for the same query', () => {
    const token = encodePageToken({ projectId: 'p1', state: 'pending', beforeSeq: 42 });
    expect(decodePageToken(token, { projectId: 'p1', state: 'pending' })).toBe(42);
  });

  it('refuses a token of another project or state filter', () => {
    const token = encodePageToken({ projectId: 'p1', state: null, beforeSeq: 42 });
    expect(() => decodePageToken(token, { projectId: 'p2', state: null })).toThrow(
      'page_token: belongs to a listing with another project_id or state; start again without it',
    );
    expect(() => decodePageToken(token, { projectId: 'p1', state: 'approved' })).toThrow(InvalidArgumentError);
  });

  it.each([
    ['garbage', 'not a token'],
    ['JSON of the wrong shape', Buffer.from('{"p":"p1","s":null,"b":"42"}').toString('base64url')],
    ['a position below 1', Buffer.from('{"p":"p1","s":null,"b":0}').toString('base64url')],
  ])('refuses %s', (_, token) => {
    expect(() => decodePageToken(token, { projectId: 'p1', state: null })).toThrow('page_token: is not a token this service returned');
  });
});
