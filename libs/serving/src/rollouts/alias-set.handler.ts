import type { MessageShape } from '@bufbuild/protobuf';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Injectable } from '@nestjs/common';
import type { EventHandlerProvider } from '@trellis/platform';
import { AliasSetEventSchema, type EventEnvelope } from '@trellis/proto';
import type { EntityManager } from 'typeorm';
import { RolloutService } from './rollout.service';

/** The subject the registry publishes on when an alias is set or moved. */
export const ALIAS_SET = 'trellis.registry.v1.alias.set';

/** Starts a rollout on each endpoint that follows an alias when the alias moves to another version. */
@Injectable()
export class AliasSetHandler implements EventHandlerProvider<typeof AliasSetEventSchema> {
  constructor(private readonly rollouts: RolloutService) {}

  async handle(message: MessageShape<typeof AliasSetEventSchema>, envelope: EventEnvelope, manager: EntityManager): Promise<void> {
    const change = message.change;
    const projectId = message.projectId || envelope.projectId;
    if (!change || change.toVersion <= 0n || change.toVersion === change.fromVersion || !projectId) return;
    await this.rollouts.recordAliasMove(manager, {
      projectId,
      modelName: message.modelName,
      alias: change.alias,
      toVersion: Number(change.toVersion),
      changedAt: change.changeTime ? timestampMs(change.changeTime) : 0,
      actorId: change.actorId || envelope.actor,
      requestId: envelope.requestId,
    });
  }
}
