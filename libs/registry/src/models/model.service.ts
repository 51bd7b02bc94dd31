import { Injectable } from '@nestjs/common';
import {
  AlreadyExistsError,
  AuditRecorder,
  type Caller,
  checkRequired,
  checkUpdateMask,
  decodePageToken,
  encodePageToken,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  pageSizeOf,
  PermissionDeniedError,
} from '@trellis/platform';
import type { EntityManager } from 'typeorm';
import { positionOf } from '../common/page-position';
import { checkAlias, checkModelName, checkTag, checkTagKey, checkTags, checkText, lastWins, REGISTRY_LIMITS, type Tag } from '../common/registry-limits';
import { versionPrefix } from '../version-files/version-file.paths';
import { VersionFileService } from '../version-files/version-file.service';
import { ModelAccess, modelResourceName, type ModelTarget } from './model-access';
import type { RegisteredModelEntity } from './model.entity';
import type { ModelView } from './model.mapping';
import { ModelRepository } from './model.repository';

/** What a new model needs. */
export interface NewModel {
  projectId: string;
  name: string;
  description: string;
  tags: Tag[];
  protectedAliases: string[];
}

/** A search of models as SearchModels asks it: in the projects named, or all the caller may read when none are. */
export interface ModelQuery {
  projectIds: string[];
  nameLike: string;
  tags: Tag[];
  pageSize: number;
  pageToken: string;
}

/** The fields UpdateModel may change, named in its update_mask. */
const UPDATABLE = ['description', 'protected_aliases'] as const;

/** What UpdateModel changes: the model (named by project and name, with the new values) and the paths of the fields to change. */
export interface ModelUpdate {
  model?: { projectId: string; name: string; description: string; protectedAliases: string[] };
  updateMask: readonly string[];
}

/** Registered models: create, read, update, rename, delete, tags and search. */
@Injectable()
export class ModelService {
  constructor(
    private readonly models: ModelRepository,
    private readonly audit: AuditRecorder,
    private readonly access: ModelAccess,
    private readonly files: VersionFileService,
  ) {}

  async create(caller: Caller, input: NewModel): Promise<ModelView> {
    checkRequired(input.projectId, 'project_id');
    checkModelName(input.name);
    checkText(input.description, REGISTRY_LIMITS.descriptionLength, 'description');
    checkTags(input.tags);
    const protectedAliases = protectedAliasesOf(caller, input.projectId, input.protectedAliases);
    caller.assert('create', 'Model', { projectId: input.projectId });
    return this.models.transaction(async (tx) => {
      if (await this.models.exists(tx, input.projectId, input.name)) {
        throw modelNameTaken(input.projectId, input.name);
      }
      const now = Date.now();
      const tags = lastWins(input.tags);
      const model = await this.models.insert(
        tx,
        {
          projectId: input.projectId,
          name: input.name,
          description: input.description,
          protectedAliases,
          latestVersion: 0,
          creatorId: caller.authenticated.id,
          createdAt: now,
          updatedAt: now,
        },
        tags,
      );
      await this.audit.recordIn(tx, caller, { id: model.name, projectId: model.projectId });
      return { model, tags, aliases: [] };
    });
  }

  async get(caller: Caller, projectId: string, name: string): Promise<ModelView> {
    const model = await this.access.require(caller, projectId, name, { action: 'read', kind: 'Model' });
    return (await this.models.views([model]))[0];
  }

  /** Changes the fields named in the mask; protected_aliases only by someone who may update the project. */
  async update(caller: Caller, update: ModelUpdate): Promise<ModelView> {
    if (!update.model) throw new InvalidArgumentError('is required: it names the model and holds the new values', 'model');
    const { projectId, name, description, protectedAliases } = update.model;
    checkRequired(projectId, 'model.project_id');
    checkModelName(name, 'model.name');
    const mask = checkUpdateMask(update.updateMask, UPDATABLE);
    const changes: Partial<RegisteredModelEntity> = {};
    if (mask.has('description')) {
      checkText(description, REGISTRY_LIMITS.descriptionLength, 'model.description');
      changes.description = description;
    }
    if (mask.has('protected_aliases')) {
      changes.protectedAliases = protectedAliasesOf(caller, projectId, protectedAliases, true, 'model.protected_aliases');
    }
    return this.change(caller, projectId, name, async (tx, model) => {
      Object.assign(model, changes);
      await this.models.update(tx, model.id, changes);
    });
  }

  async rename(caller: Caller, projectId: string, name: string, newName: string): Promise<ModelView> {
    checkModelName(newName, 'new_name');
    return this.change(caller, projectId, name, async (tx, model) => {
      checkMayReplace(caller, model, 'rename');
      if (newName !== name && (await this.models.exists(tx, projectId, newName))) {
        throw modelNameTaken(projectId, newName);
      }
      model.name = newName;
      await this.models.update(tx, model.id, { name: newName });
    });
  }

  /** Deletes the model and its versions; FAILED_PRECONDITION naming an alias while one points at a version. */
  async delete(caller: Caller, projectId: string, name: string): Promise<void> {
    const model = await this.models.transaction(async (tx) => {
      const model = await this.access.lock(tx, caller, projectId, name, { action: 'delete', kind: 'Model' });
      checkMayReplace(caller, model, 'delete');
      const held = await this.models.aliasesOf(tx, model.id);
      if (held.length > 0) {
        const named = held.map((alias) => `${alias.alias} (version ${alias.version})`).join(', ');
        throw new FailedPreconditionError(`model "${name}" still has aliases: ${named}; delete them before the model`, { reason: 'MODEL_HAS_ALIASES', resource: modelResourceName(projectId, name) });
      }
      const stores = await this.models.versionStoresOf(tx, model.id);
      await this.models.delete(tx, model.id);
      await this.audit.recordIn(tx, caller);
      return { ...model, stores };
    });
    this.files.cancel(model.id);
    for (const store of model.stores) await this.files.deleteUnder(store, versionPrefix(model.projectId, model.id));
  }

  async setTag(caller: Caller, projectId: string, name: string, tag: Tag): Promise<void> {
    checkTag(tag, 'tag');
    await this.change(caller, projectId, name, (tx, model) => this.models.setTag(tx, model.id, tag));
  }

  async deleteTag(caller: Caller, projectId: string, name: string, key: string): Promise<void> {
    checkTagKey(key);
    await this.change(caller, projectId, name, async (tx, model) => {
      if (!(await this.models.deleteTag(tx, model.id, key))) throw new NotFoundError(`model "${name}" has no tag "${key}"`, { reason: 'MODEL_TAG_NOT_FOUND', resource: modelResourceName(projectId, name) });
    });
  }

  /**
   * A page of the models the caller may read, in the projects asked for (all readable ones when
   * none are), by name then project; page tokens carry the last name and project, so a page
   * continues where the last one stopped.
   */
  async search(caller: Caller, query: ModelQuery): Promise<{ models: ModelView[]; nextPageToken: string }> {
    for (const projectId of query.projectIds) caller.assert('read', 'Model', { projectId });
    const readable = query.projectIds.length > 0 ? query.projectIds : caller.boundProjectsWhere('read', 'Model');
    checkText(query.nameLike, REGISTRY_LIMITS.modelNameLength, 'name_like');
    checkTags(query.tags);
    const size = pageSizeOf(query.pageSize);
    const projectIds = [...new Set(readable)].sort();
    const listing = { projects: JSON.stringify(projectIds), nameLike: query.nameLike, tags: JSON.stringify(query.tags) };
    const after = positionOf(decodePageToken(query.pageToken, listing));
    if (projectIds.length === 0) return { models: [], nextPageToken: '' };
    const page = await this.models.search({
      projectIds,
      nameLike: query.nameLike,
      tags: query.tags,
      after,
      limit: size,
    });
    const last = page.models[page.models.length - 1];
    const nextPageToken = page.more && last ? encodePageToken(JSON.stringify([last.name, last.projectId]), listing) : '';
    return { models: await this.models.views(page.models), nextPageToken };
  }

  /** Runs `apply` on the locked model after checking the caller may update it, then audits the change. */
  private async change(caller: Caller, projectId: string, name: string, apply: (tx: EntityManager, model: RegisteredModelEntity) => Promise<void>): Promise<ModelView> {
    const target: ModelTarget = { action: 'update', kind: 'Model' };
    return this.models.transaction(async (tx) => {
      const model = await this.access.lock(tx, caller, projectId, name, target);
      model.updatedAt = Date.now();
      await apply(tx, model);
      await this.models.update(tx, model.id, { updatedAt: model.updatedAt });
      await this.audit.recordIn(tx, caller);
      return (await this.models.views([model], tx))[0];
    });
  }
}

/**
 * Renaming or deleting a model with protected aliases is a project admin's decision too: clients
 * and approvals name models by name, so an editor who could swap names (or delete the model and
 * create it again unprotected) would move a protected alias without an approval.
 */
function checkMayReplace(caller: Caller, model: RegisteredModelEntity, what: 'rename' | 'delete'): void {
  if (model.protectedAliases.length === 0 || caller.can('update', 'Project', { projectId: model.projectId, id: model.projectId })) return;
  throw new PermissionDeniedError(`model "${model.name}" has protected aliases (${model.protectedAliases.join(', ')}): only a project admin may ${what} it`, {
    reason: 'MODEL_PROTECTED',
    resource: modelResourceName(model.projectId, model.name),
  });
}

/** ALREADY_EXISTS (MODEL_NAME_TAKEN), in MLflow's words, naming the model that holds the name. */
function modelNameTaken(projectId: string, name: string): AlreadyExistsError {
  return new AlreadyExistsError(`Registered Model (name=${name}) already exists.`, { reason: 'MODEL_NAME_TAKEN', resource: modelResourceName(projectId, name) });
}

/**
 * Protected aliases as given, checked and de-duplicated. Choosing them is a project admin's
 * decision (`update` on the project), as they decide who may move production's aliases.
 */
function protectedAliasesOf(caller: Caller, projectId: string, aliases: string[], always = false, field = 'protected_aliases'): string[] {
  aliases.forEach((alias, index) => checkAlias(alias, `${field}[${index}]`));
  if (always || aliases.length > 0) caller.assert('update', 'Project', { projectId, id: projectId });
  return [...new Set(aliases)].sort();
}
