import { byteRangeOf } from './byte-range';

describe('byteRangeOf', () => {
  it('reads a range from a to b, cutting its end to the resource', () => {
    expect(byteRangeOf('bytes=0-0', 10)).toEqual({ start: 0, end: 0 });
    expect(byteRangeOf('bytes=2-5', 10)).toEqual({ start: 2, end: 5 });
    expect(byteRangeOf('bytes=2-99999999999999999999', 10)).toEqual({ start: 2, end: 9 });
  });

  it('reads an open range to the end, and the last n bytes', () => {
    expect(byteRangeOf('bytes=7-', 10)).toEqual({ start: 7, end: 9 });
    expect(byteRangeOf('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(byteRangeOf('bytes=-30', 10)).toEqual({ start: 0, end: 9 });
  });

  it('is unsatisfiable when it starts past the end, asks for the last 0 bytes, or the resource is empty', () => {
    expect(byteRangeOf('bytes=10-', 10)).toBe('unsatisfiable');
    expect(byteRangeOf('bytes=10-20', 10)).toBe('unsatisfiable');
    expect(byteRangeOf('bytes=-0', 10)).toBe('unsatisfiable');
    expect(byteRangeOf('bytes=-5', 0)).toBe('unsatisfiable');
    expect(byteRangeOf('bytes=0-', 0)).toBe('unsatisfiable');
  });

  it('ignores what it may answer whole: no header, another unit, several ranges, an end before the start, bad syntax', () => {
    for (const header of [undefined, 'items=0-1', 'bytes=0-1,4-5', 'bytes=5-2', 'bytes=-', 'bytes=a-b', 'bytes 0-1']) expect(byteRangeOf(header, 10)).toBeUndefined();
  });
});
