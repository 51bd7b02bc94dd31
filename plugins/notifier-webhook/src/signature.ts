import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header that carries a delivery's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'trellis-signature';

/** How far a signature's timestamp may be from the receiver's clock by default, in seconds (Stripe's default too). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** What `verifySignature` found: a valid signature and when it was made, or why it is refused. */
export type SignatureCheck = { valid: true; timestamp: Date } | { valid: false; reason: 'malformed' | 'stale' | 'mismatch'; message: string };

/** The value of the signature header for `body` signed at `at` with `secret`. */
export function signatureHeader(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${hmac(secret, t, body).toString('hex')}`;
}

/**
 * Checks a `trellis-signature` header against the raw body a receiver got, as the receiver's first
 * step: the timestamp must be within `toleranceSeconds` of `now` (so a captured request cannot be
 * replayed later), and one of the header's `v1` signatures (several while a secret is rotated) must
 * be the HMAC-SHA256 of `<t>.<body>` under `secret`, compared in constant time. Pass the body
 * exactly as received (a Buffer or the undecoded string), never a re-serialized object.
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string | Buffer,
  { toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now = new Date() }: { toleranceSeconds?: number; now?: Date } = {},
): SignatureCheck {
  const parsed = parseHeader(header ?? '');
  if (!parsed) return { valid: false, reason: 'malformed', message: `${SIGNATURE_HEADER} must read t=<unix seconds>,v1=<hex HMAC-SHA256>` };
  const age = Math.abs(now.getTime() / 1000 - parsed.t);
  if (age > toleranceSeconds) return { valid: false, reason: 'stale', message: `the signature's timestamp is ${Math.round(age)} s from now, more than the ${toleranceSeconds} s allowed` };
  const expected = hmac(secret, parsed.t, body);
  const matches = parsed.signatures.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected));
  if (!matches) return { valid: false, reason: 'mismatch', message: 'no v1 signature matches the body under this secret' };
  return { valid: true, timestamp: new Date(parsed.t * 1000) };
}

function hmac(secret: string, t: number, body: string | Buffer): Buffer {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest();
}

function parseHeader(header: string): { t: number; signatures: Buffer[] } | undefined {
  let t: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const [key, value = ''] = part.trim().split('=', 2);
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^(?:[0-9a-f]{2})+$/i.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  return t === undefined || signatures.length === 0 ? undefined : { t, signatures };
}
