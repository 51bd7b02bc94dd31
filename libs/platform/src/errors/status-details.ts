import { create, createRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { anyPack, anyUnpack, DurationSchema, type Any, type Duration } from '@bufbuild/protobuf/wkt';
import { Metadata } from '@grpc/grpc-js';
import { BadRequestSchema, ErrorInfoSchema, ResourceInfoSchema, RetryInfoSchema, StatusSchema, type BadRequest, type ErrorInfo, type ResourceInfo, type RetryInfo, type Status } from '@trellis/proto';
import type { FieldViolation } from './domain-errors';
import { excerpt } from './field-checks';

/** The trailing metadata key a status's google.rpc.Status travels in, binary-encoded. */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/** The ErrorInfo metadata key that holds the resource name a failure concerns. */
export const RESOURCE_KEY = 'resource';

/**
 * What a failed call says besides its code and message, as google.rpc.Status details carry it:
 * its ErrorInfo (reason, domain, metadata), the resource it concerns (ResourceInfo and the
 * `resource` metadata), its BadRequest field violations and its RetryInfo delay.
 */
export interface StatusDetails {
  /** The failure's stable UPPER_SNAKE name (`RUN_NOT_FOUND`). */
  reason: string;
  /** Who decided the failure: `<service>.trellis` for a Trellis service. */
  domain: string;
  /** ErrorInfo metadata: facts about the failure, `resource` among them when there is one. */
  metadata: Readonly<Record<string, string>>;
  /** The resource name of what the failure concerns, when there is one. */
  resource?: string;
  /** The wrong fields of the request. */
  violations: readonly FieldViolation[];
  /** How long to wait before a retry can succeed, in seconds, when known. */
  retryAfterSeconds?: number;
}

/** Longest Status message: the status interceptor cuts `grpc-message` to MAX_STATUS_DETAILS (1024), and the Status repeats it. */
const MAX_MESSAGE = 1024;
/** Most field violations sent: a request with thousands of bad entries must not outgrow the client's trailer limit. */
const MAX_VIOLATIONS = 10;
/** Longest field path, description or metadata value sent. */
const MAX_TEXT = 256;

/** The detail types statusDetailsOf reads; others are skipped. */
const registry = createRegistry(ErrorInfoSchema, BadRequestSchema, RetryInfoSchema, ResourceInfoSchema);

/**
 * Sets `details` on `metadata` as the google.rpc.Status of a call answered with `code` and
 * `message` (`grpc-status-details-bin`), and, when a retry delay is known, `retry-after` in whole
 * seconds for clients that read only that. Texts are cut short so the trailer stays small.
 */
export function setStatusDetails(metadata: Metadata, code: number, message: string, details: StatusDetails): void {
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(toBinary(StatusSchema, statusOf(code, message, details))));
  if (details.retryAfterSeconds !== undefined && details.retryAfterSeconds > 0) metadata.set('retry-after', String(Math.ceil(details.retryAfterSeconds)));
}

function statusOf(code: number, message: string, details: StatusDetails): Status {
  const info = { ...details.metadata, ...(details.resource === undefined ? {} : { [RESOURCE_KEY]: details.resource }) };
  const packed: Any[] = [
    anyPack(
      ErrorInfoSchema,
      create(ErrorInfoSchema, {
        reason: details.reason,
        domain: details.domain,
        metadata: Object.fromEntries(Object.entries(info).map(([key, value]) => [key, excerpt(value, MAX_TEXT)])),
      }),
    ),
  ];
  if (details.resource !== undefined) {
    packed.push(anyPack(ResourceInfoSchema, create(ResourceInfoSchema, { resourceType: collectionOf(details.resource), resourceName: excerpt(details.resource, MAX_TEXT) })));
  }
  if (details.violations.length > 0) {
    const fieldViolations = details.violations
      .slice(0, MAX_VIOLATIONS)
      .map((violation) => ({ field: excerpt(violation.field, MAX_TEXT), description: excerpt(violation.description, MAX_TEXT), reason: violation.reason ?? '' }));
    packed.push(anyPack(BadRequestSchema, create(BadRequestSchema, { fieldViolations })));
  }
  if (details.retryAfterSeconds !== undefined && details.retryAfterSeconds > 0) {
    packed.push(anyPack(RetryInfoSchema, create(RetryInfoSchema, { retryDelay: durationOf(details.retryAfterSeconds) })));
  }
  return create(StatusSchema, {
    code,
    message: excerpt(message, MAX_MESSAGE),
    details: packed,
  });
}

/** `versions` of `projects/p1/models/churn/versions/3`: the collection its last id is in. */
function collectionOf(resource: string): string {
  const segments = resource.split('/');
  return segments.length >= 2 ? segments[segments.length - 2] : '';
}

function durationOf(seconds: number): Duration {
  const whole = Math.floor(seconds);
  return create(DurationSchema, { seconds: BigInt(whole), nanos: Math.round((seconds - whole) * 1e9) });
}

/**
 * The google.rpc.Status details in a call's trailing `metadata`, as StatusDetails, or undefined
 * when there are none or they do not decode. Details of types it does not know are skipped.
 */
export function statusDetailsOf(metadata: Metadata): StatusDetails | undefined {
  const [bytes] = metadata.get(STATUS_DETAILS_KEY);
  if (!Buffer.isBuffer(bytes)) return undefined;
  let status;
  try {
    status = fromBinary(StatusSchema, bytes);
  } catch {
    return undefined;
  }
  const unpacked = status.details.map((any) => anyUnpack(any, registry)).filter((message) => message !== undefined);
  const info = unpacked.find((message): message is ErrorInfo => message.$typeName === 'google.rpc.ErrorInfo');
  const resourceInfo = unpacked.find((message): message is ResourceInfo => message.$typeName === 'google.rpc.ResourceInfo');
  const badRequest = unpacked.find((message): message is BadRequest => message.$typeName === 'google.rpc.BadRequest');
  const retry = unpacked.find((message): message is RetryInfo => message.$typeName === 'google.rpc.RetryInfo')?.retryDelay;
  const resource = info?.metadata[RESOURCE_KEY] || resourceInfo?.resourceName || undefined;
  return {
    reason: info?.reason ?? '',
    domain: info?.domain ?? '',
    metadata: { ...info?.metadata },
    ...(resource ? { resource } : {}),
    violations: (badRequest?.fieldViolations ?? []).map(({ field, description, reason }) => (reason ? { field, description, reason } : { field, description })),
    ...(retry ? { retryAfterSeconds: Number(retry.seconds) + retry.nanos / 1e9 } : {}),
  };
}
