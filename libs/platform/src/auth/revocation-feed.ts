import { fromBinary } from '@bufbuild/protobuf';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { AccessRevokedEventSchema, type AccessRevokedEvent } from '@trellis/proto';
import type { EventBus, EventSubscription } from '../events';
import type { Revocation, RevocationList } from './revocation-list';

/** Where governance publishes revocations (payload trellis.governance.v1.AccessRevokedEvent). */
export const ACCESS_REVOKED_SUBJECT = 'trellis.governance.v1.access.revoked';

/**
 * Keeps `list` up to date with governance's revocations: first those published in the last
 * `lookbackMs` (so a process that starts or restarts still refuses tokens revoked before; JetStream
 * keeps them, in-process delivery has none), then each one as it is published. Every process
 * follows them all, whatever else runs beside it.
 */
export function followRevocations(bus: EventBus, list: RevocationList, options: { lookbackMs: number }): Promise<EventSubscription> {
  return bus.watch({
    subject: ACCESS_REVOKED_SUBJECT,
    since: new Date(Date.now() - options.lookbackMs),
    handler: (envelope) => list.add(revocationOf(fromBinary(AccessRevokedEventSchema, envelope.payload))),
  });
}

/** The deny list entry of an event. */
function revocationOf(event: AccessRevokedEvent): Revocation {
  return {
    apiKeyId: event.apiKeyId || undefined,
    principalId: event.principalId,
    accessVersion: event.accessVersion,
    expiresAt: event.expireTime ? timestampMs(event.expireTime) : 0,
  };
}
