/**
 * A byte stream's pieces as they come, each cut to at most `max` bytes without copying (a storage
 * stream's reads are already sized for the transport; re-chunking them would copy every byte).
 */
export async function* piecesOf(source: AsyncIterable<Uint8Array>, max: number): AsyncGenerator<Uint8Array> {
  let sent = false;
  for await (const piece of source) {
    for (let at = 0; at < piece.length; at += max) {
      yield piece.subarray(at, at + max);
      sent = true;
    }
  }
  // An empty file is still one (empty) message, so a client always sees the stream's shape.
  if (!sent) yield new Uint8Array(0);
}
