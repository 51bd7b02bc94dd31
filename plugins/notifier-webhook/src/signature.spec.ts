import { signatureHeader, verifySignature } from './signature';

const secret = 'whsec-0123456789abcdef';
const body = '{"id":"a-1","title":"drift on tenure"}';
const signedAt = new Date('2026-12-05T10:00:00.000Z');

describe('verifySignature', () => {
  it('accepts the header the notifier makes for the body it sent, within the tolerance', () => {
    const header = signatureHeader(secret, body, signedAt);
    expect(header).toMatch(/^t=1796464800,v1=[0-9a-f]{64}$/);
    expect(verifySignature(secret, header, body, { now: new Date(signedAt.getTime() + 299_000) })).toEqual({ valid: true, timestamp: signedAt });
    expect(verifySignature(secret, header, Buffer.from(body), { now: signedAt })).toMatchObject({ valid: true });
  });

  it('refuses a tampered body and another secret as a mismatch', () => {
    const header = signatureHeader(secret, body, signedAt);
    expect(verifySignature(secret, header, body.replace('tenure', 'income'), { now: signedAt })).toMatchObject({ valid: false, reason: 'mismatch' });
    expect(verifySignature('another-secret-0123456', header, body, { now: signedAt })).toMatchObject({ valid: false, reason: 'mismatch' });
  });

  it('refuses a timestamp older or newer than the tolerance as stale, so a captured request cannot be replayed', () => {
    const header = signatureHeader(secret, body, signedAt);
    const later = verifySignature(secret, header, body, { now: new Date(signedAt.getTime() + 301_000) });
    expect(later).toEqual({ valid: false, reason: 'stale', message: "the signature's timestamp is 301 s from now, more than the 300 s allowed" });
    expect(verifySignature(secret, header, body, { now: new Date(signedAt.getTime() - 61_000), toleranceSeconds: 60 })).toMatchObject({ reason: 'stale' });
  });

  it('refuses a missing or malformed header, naming the expected form', () => {
    for (const header of [undefined, '', 'v1=abcd', 't=1796464800', 't=soon,v1=abcd', 't=1796464800,v1=xyz']) {
      expect(verifySignature(secret, header, body, { now: signedAt })).toEqual({ valid: false, reason: 'malformed', message: 'trellis-signature must read t=<unix seconds>,v1=<hex HMAC-SHA256>' });
    }
  });

  it('accepts a header with several v1 signatures when one matches, as while a secret is rotated', () => {
    const [t, v1] = signatureHeader(secret, body, signedAt).split(',');
    const stale = signatureHeader('the-old-secret-01234567', body, signedAt).split(',')[1];
    expect(verifySignature(secret, `${t},${stale},${v1}`, body, { now: signedAt })).toMatchObject({ valid: true });
    expect(verifySignature(secret, `${t},v1=00ff`, body, { now: signedAt })).toMatchObject({ valid: false, reason: 'mismatch' });
  });
});
