/** How many characters at the end of a token pick its slot: an EdDSA signature's, which differ between any two tokens. */
const TAIL = 16;

/**
 * A bounded map from tokens (or whole `authorization` headers) to what is known about them. A
 * lookup hashes only the token's last characters and then compares the whole token with the one
 * stored, so it costs far less than hashing a 500-character JWT, and a token never finds another
 * token's entry: two tokens that end alike share a slot, and the later one replaces the earlier.
 * Past `capacity` entries the oldest is dropped.
 */
export class TokenCache<V> {
  private readonly slots = new Map<string, { token: string; value: V }>();

  constructor(private readonly capacity: number) {}

  /** What was stored for exactly `token`, if it is still held. */
  get(token: string): V | undefined {
    const slot = this.slots.get(token.slice(-TAIL));
    return slot !== undefined && slot.token === token ? slot.value : undefined;
  }

  /** Stores `value` for `token`, dropping the oldest entry when full. */
  set(token: string, value: V): void {
    const tail = token.slice(-TAIL);
    if (!this.slots.has(tail) && this.slots.size >= this.capacity) this.slots.delete(this.slots.keys().next().value as string);
    this.slots.set(tail, { token, value });
  }

  /** Forgets `token`, if it is held. */
  delete(token: string): void {
    const tail = token.slice(-TAIL);
    if (this.slots.get(tail)?.token === token) this.slots.delete(tail);
  }
}
