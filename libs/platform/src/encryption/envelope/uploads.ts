import type { MultipartUpload } from '@trellis/plugin-sdk';
import { OBJECT_ID_LENGTH } from './format';

/** An upload of the encrypting store, as the inner store knows it; `objectId` when its parts are encrypted. */
export interface UploadRef {
  inner: MultipartUpload;
  objectId?: Buffer;
}

const SEALED = /^e\.([0-9a-f]{32})\.(.+)$/s;
const PLAIN = /^p\.(.+)$/s;

/**
 * The upload id the encrypting store hands out: the inner id, prefixed with whether the parts are
 * encrypted and, if so, the object id that names the upload's key record. Ids are opaque to
 * callers; this keeps the store free of state between calls.
 */
export function outerUploadId(inner: MultipartUpload, objectId?: Buffer): string {
  return objectId ? `e.${objectId.toString('hex')}.${inner.uploadId}` : `p.${inner.uploadId}`;
}

/** The inner upload of an id `outerUploadId` made; undefined for any other id. */
export function innerUpload(upload: MultipartUpload): UploadRef | undefined {
  if (typeof upload.uploadId !== 'string') return undefined;
  const sealed = SEALED.exec(upload.uploadId);
  if (sealed) {
    const objectId = Buffer.from(sealed[1], 'hex');
    return objectId.length === OBJECT_ID_LENGTH ? { inner: { key: upload.key, uploadId: sealed[2] }, objectId } : undefined;
  }
  const plain = PLAIN.exec(upload.uploadId);
  return plain ? { inner: { key: upload.key, uploadId: plain[1] } } : undefined;
}

/**
 * The etag of an encrypted part: its plaintext size and the inner part's etag. Completing needs
 * every part's plaintext size (to check the 5 MiB minimum and to record the parts), and the
 * contract hands back only etags.
 */
export function sealedPartEtag(plainSize: number, innerEtag: string): string {
  return `${plainSize}.${innerEtag}`;
}

/** The plaintext size and inner etag of an etag `sealedPartEtag` made; undefined for any other. */
export function parseSealedPartEtag(etag: unknown): { plainSize: number; innerEtag: string } | undefined {
  const match = typeof etag === 'string' ? /^(\d{1,15})\.(.+)$/s.exec(etag) : null;
  return match ? { plainSize: Number(match[1]), innerEtag: match[2] } : undefined;
}
