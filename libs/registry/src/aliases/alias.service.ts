import { create } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import { AuditRecorder, type Caller, checkLength, decodePageToken, FailedPreconditionError, NotFoundError, Outbox, pageOf, pageSizeOf, resourceName, SEQUENCE_POSITION } from '@trellis/platform';
import { AliasDeletedEventSchema, AliasSetEventSchema } from '@trellis/proto';
import type { EntityManager } from 'typeorm';
import { aliasResourceName, ModelAccess, versionResourceName } from '../models/model-access';
import type { RegisteredModelEntity } from '../models/model.entity';
import { ModelRepository } from '../models/model.repository';
import { registryEvents } from '../registry.events';
import { checkAlias, REGISTRY_LIMITS, versionOf } from '../common/registry-limits';
import type { VersionView } from '../versions/version.mapping';
import { VersionService } from '../versions/version.service';
import { ApprovalCheck, approvalMissing, type ProtectedChange } from './alias-approval';
import type { AliasChangeEntity } from './alias.entity';
import { changeToProto } from './alias.mapping';
import { AliasRepository } from './alias.repository';

/** What SetAlias and DeleteAlias ask for. */
export interface AliasRequest {
  projectId: string;
  name: string;
  alias: string;
  /** The version to point at; absent for a delete. */
  version?: bigint;
  approvalId: string;
}

/**
 * Aliases: set, move, delete, resolve (now or at a past moment), history. Every change appends to
 * the history and publishes its event in the same transaction. A protected alias changes only with
 * an approved governance approval naming exactly that change, and each approval is spent once.
 */
@Injectable()
export class AliasService {
  constructor(
    private readonly aliases: AliasRepository,
    private readonly models: ModelRepository,
    private readonly versions: VersionService,
    private readonly audit: AuditRecorder,
    private readonly outbox: Outbox,
    private readonly access: ModelAccess,
    private readonly approvals: ApprovalCheck,
  ) {}

  set(caller: Caller, request: AliasRequest): Promise<AliasChangeEntity> {
    return this.change(caller, request, versionOf(request.version ?? 0n));
  }

  delete(caller: Caller, request: AliasRequest): Promise<AliasChangeEntity> {
    return this.change(caller, request, undefined);
  }

  /** The version the alias points at now (`atTimeMs` undefined), or held at `atTimeMs` according to its history. */
  async resolve(caller: Caller, projectId: string, name: string, alias: string, atTimeMs: number | undefined): Promise<VersionView> {
    checkAlias(alias);
    const target = { action: 'read', kind: 'Alias', name: aliasResourceName(projectId, name, alias) } as const;
    if (atTimeMs === undefined) {
      // The hot path (serving resolves aliases): one query for model, alias and version; the
      // slower path below tells which of them is missing.
      caller.assert(target.action, target.kind, { projectId });
      const version = await this.aliases.currentVersion(projectId, name, alias);
      if (version) {
        caller.assert(target.action, target.kind, { projectId, name: target.name });
        return (await this.versions.views([{ version, model: { id: version.modelId, projectId, name } }]))[0];
      }
    }
    const model = await this.access.require(caller, projectId, name, target);
    let number: number | undefined;
    if (atTimeMs === undefined) {
      number = (await this.aliases.find(model.id, alias))?.version;
      if (number === undefined) throw aliasNotFound(projectId, name, alias, `model "${name}" has no alias ${alias}`);
    } else {
      const last = await this.aliases.lastChangeAt(model.id, alias, atTimeMs);
      if (!last || last.toVersion === 0) throw aliasNotFound(projectId, name, alias, `alias ${alias} of model "${name}" pointed at no version at ${new Date(atTimeMs).toISOString()}`);
      number = last.toVersion;
    }
    const version = await this.versions.find(model, number).catch(() => {
      throw new NotFoundError(`alias ${alias} of model "${name}" pointed at version ${number}, which has since been deleted`, {
        reason: 'ALIAS_TARGET_DELETED',
        resource: aliasResourceName(projectId, name, alias),
      });
    });
    return (await this.versions.views([{ version, model }]))[0];
  }

  /** A page of the model's alias changes (one alias's, when named), newest first. */
  async history(caller: Caller, projectId: string, name: string, alias: string, pageSize: number, pageToken: string): Promise<{ changes: AliasChangeEntity[]; nextPageToken: string }> {
    if (alias) checkLength(alias, REGISTRY_LIMITS.aliasLength, 'alias');
    const size = pageSizeOf(pageSize);
    const model = await this.access.require(caller, projectId, name, { action: 'read', kind: 'Alias', name: alias ? aliasResourceName(projectId, name, alias) : resourceName(['projects', projectId], ['models', name]) });
    const listing = { model: model.id, alias };
    const before = decodePageToken(pageToken, listing, SEQUENCE_POSITION);
    const rows = await this.aliases.history(model.id, alias, before ? Number(before) : undefined, size + 1);
    const page = pageOf(rows, size, (row) => String(row.seq), listing);
    return { changes: page.items, nextPageToken: page.nextPageToken };
  }

  /** Sets (`version`) or deletes (undefined) an alias, with its history entry, event and audit record. */
  private async change(caller: Caller, request: AliasRequest, version: number | undefined): Promise<AliasChangeEntity> {
    checkAlias(request.alias);
    const { name, alias } = request;
    const target = { action: version === undefined ? 'delete' : 'update', kind: 'Alias', name: aliasResourceName(request.projectId, name, alias) } as const;
    const model = await this.access.require(caller, request.projectId, name, target);
    const change: ProtectedChange = { projectId: model.projectId, model: name, alias, version };
    // Governance is asked before the transaction, so no lock is held across a network call.
    const approvalId = model.protectedAliases.includes(alias) ? await this.approve(caller, request.approvalId, change) : '';

    return this.aliases.transaction(async (tx) => {
      const locked = await this.access.lock(tx, caller, request.projectId, name, target);
      if (locked.protectedAliases.includes(alias) && !approvalId) throw approvalMissing(change);
      if (approvalId) await this.spend(tx, approvalId, locked, alias);
      const current = await this.aliases.find(locked.id, alias, tx);
      if (version === undefined) {
        if (!current) throw aliasNotFound(request.projectId, name, alias, `model "${name}" has no alias ${alias}`);
        await this.aliases.delete(tx, locked.id, alias);
      } else {
        const row = await this.versions.find(locked, version, tx);
        if (row.status === 'FAILED') {
          throw new FailedPreconditionError(`version ${version} of model "${name}" FAILED (${row.statusMessage}); an alias cannot point at it`, {
            reason: 'VERSION_FAILED',
            resource: versionResourceName(request.projectId, name, version),
          });
        }
        await this.aliases.set(tx, locked.id, alias, version);
      }
      const now = Date.now();
      const entry = await this.aliases.appendChange(tx, {
        modelId: locked.id,
        projectId: locked.projectId,
        alias,
        fromVersion: current?.version ?? 0,
        toVersion: version ?? 0,
        actorId: caller.authenticated.id,
        timeMs: now,
        approvalId,
      });
      await this.models.update(tx, locked.id, { updatedAt: now });
      await this.publish(tx, caller, locked, entry);
      await this.audit.recordIn(tx, caller);
      return entry;
    });
  }

  /** The approval id once governance confirms it allows the change; FAILED_PRECONDITION saying how to get one when there is none. */
  private async approve(caller: Caller, approvalId: string, change: ProtectedChange): Promise<string> {
    if (!approvalId) throw approvalMissing(change);
    checkLength(approvalId, 128, 'approval_id');
    await this.approvals.verify(caller, approvalId, change);
    return approvalId;
  }

  /** Marks an approval used; FAILED_PRECONDITION when it already was, so each approval allows one change. */
  private async spend(tx: EntityManager, approvalId: string, model: RegisteredModelEntity, alias: string): Promise<void> {
    const used = await this.aliases.usedApproval(tx, approvalId);
    if (used) {
      throw new FailedPreconditionError(`approval ${approvalId} was already used on ${new Date(used.usedAt).toISOString()}; each approval allows one change, request a new one`, {
        reason: 'APPROVAL_USED',
        resource: aliasResourceName(model.projectId, model.name, alias),
      });
    }
    await this.aliases.recordUsedApproval(tx, { approvalId, modelId: model.id, alias, usedAt: Date.now() });
  }

  private async publish(tx: EntityManager, caller: Caller, model: RegisteredModelEntity, entry: AliasChangeEntity): Promise<void> {
    const fields = { projectId: model.projectId, modelName: model.name, change: changeToProto(entry) };
    const common = { projectId: model.projectId, actor: caller.authenticated.id, requestId: caller.requestId };
    if (entry.toVersion === 0) {
      await this.outbox.publish(tx, registryEvents, { subject: 'trellis.registry.v1.alias.deleted', message: create(AliasDeletedEventSchema, fields), ...common });
    } else {
      await this.outbox.publish(tx, registryEvents, { subject: 'trellis.registry.v1.alias.set', message: create(AliasSetEventSchema, fields), ...common });
    }
  }
}

/** NOT_FOUND (ALIAS_NOT_FOUND): the alias points, or pointed, at no version; `message` says when. */
function aliasNotFound(projectId: string, model: string, alias: string, message: string): NotFoundError {
  return new NotFoundError(message, { reason: 'ALIAS_NOT_FOUND', resource: aliasResourceName(projectId, model, alias) });
}
