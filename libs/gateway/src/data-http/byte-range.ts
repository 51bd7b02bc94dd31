/** Bytes `start` to `end` (both included) of a resource. */
export interface ByteRange {
  start: number;
  end: number;
}

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;

/**
 * The single byte range an HTTP `Range` header asks for in a resource of `size` bytes (RFC 9110
 * 14.1.2): `bytes=a-b`, `bytes=a-` or the last n bytes, `bytes=-n`; the end is cut to the
 * resource's. `unsatisfiable` when it starts past the end (or asks for the last 0 bytes, or the
 * resource is empty). Undefined when there is no header, or one the server may ignore and answer
 * whole: another unit, several ranges, or a range whose end comes before its start.
 */
export function byteRangeOf(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  const match = header === undefined ? null : SINGLE_RANGE.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [, first, last] = match;
  if (first === '') {
    const suffix = Number(last);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}
