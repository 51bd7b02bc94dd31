import { Injectable } from '@nestjs/common';
import { AlreadyExistsError, AuditRecorder, type Caller, checkRequired, checkUpdateMask, FailedPreconditionError, NotFoundError, PermissionDeniedError } from '@trellis/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { AliasEntity } from '../aliases/alias.entity';
import { checkAlias, checkModelName, checkTag, checkTagKey, checkTags, checkText, lastWins, REGISTRY_LIMITS, type Tag } from '../registry-limits';
import { RegistryViews, type ModelView } from '../registry-views';
import { versionPrefix, VersionFiles } from '../versions/version-files';
import { ModelAccess, type ModelTarget } from './model-access';
import { ModelSearch, type ModelQuery } from './model-search';
import { ModelTagEntity, RegisteredModelEntity } from './model.entity';

/** What a new model needs. */
export interface NewModel {
  projectId: string;
  name: string;
  description: string;
  tags: Tag[];
  protectedAliases: string[];
}

/** The fields UpdateModel may change, named in its update_mask. */
const UPDATABLE = ['description', 'protected_aliases'] as const;

/** What UpdateModel changes. */
export interface ModelUpdate {
  description: string;
  protectedAliases: string[];
  updateMask: string[];
}

/** Registered models: create, read, update, rename, delete, tags and search. */
@Injectable()
export class ModelService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditRecorder,
    private readonly access: ModelAccess,
    private readonly views: RegistryViews,
    private readonly modelSearch: ModelSearch,
    private readonly files: VersionFiles,
  ) {}

  async create(caller: Caller, input: NewModel): Promise<ModelView> {
    checkRequired(input.projectId, 'project_id');
    checkModelName(input.name);
    checkText(input.description, REGISTRY_LIMITS.descriptionLength, 'description');
    checkTags(input.tags);
    const protectedAliases = protectedAliasesOf(caller, input.projectId, input.protectedAliases);
    caller.assert('create', 'Model', { projectId: input.projectId });
    return this.dataSource.transaction(async (manager) => {
      if (await manager.existsBy(RegisteredModelEntity, { projectId: input.projectId, name: input.name })) {
        throw new AlreadyExistsError(`Registered Model (name=${input.name}) already exists.`);
      }
      const now = Date.now();
      const model = manager.create(RegisteredModelEntity, {
        projectId: input.projectId,
        name: input.name,
        description: input.description,
        protectedAliases,
        latestVersion: 0,
        creatorId: caller.authenticated.id,
        createdAt: now,
        updatedAt: now,
      });
      await manager.save(model);
      const tags = lastWins(input.tags);
      if (tags.length > 0) await manager.insert(ModelTagEntity, tags.map((tag) => ({ modelId: model.id, ...tag })));
      await this.audit.recordIn(manager, caller, { id: model.name, projectId: model.projectId });
      return { model, tags, aliases: [] };
    });
  }

  async get(caller: Caller, projectId: string, name: string): Promise<ModelView> {
    const model = await this.access.require(caller, projectId, name, { action: 'read', kind: 'Model' });
    return (await this.views.models([model]))[0];
  }

  /** Changes the fields named in the mask; protected_aliases only by someone who may update the project. */
  async update(caller: Caller, projectId: string, name: string, update: ModelUpdate): Promise<ModelView> {
    const mask = checkUpdateMask(update.updateMask, UPDATABLE);
    const changes: Partial<RegisteredModelEntity> = {};
    if (mask.has('description')) {
      checkText(update.description, REGISTRY_LIMITS.descriptionLength, 'description');
      changes.description = update.description;
    }
    if (mask.has('protected_aliases')) {
      checkRequired(projectId, 'project_id');
      changes.protectedAliases = protectedAliasesOf(caller, projectId, update.protectedAliases, true);
    }
    return this.change(caller, projectId, name, async (manager, model) => {
      Object.assign(model, changes);
      await manager.update(RegisteredModelEntity, { id: model.id }, changes);
    });
  }

  async rename(caller: Caller, projectId: string, name: string, newName: string): Promise<ModelView> {
    checkModelName(newName, 'new_name');
    return this.change(caller, projectId, name, async (manager, model) => {
      checkMayReplace(caller, model, 'rename');
      if (newName !== name && (await manager.existsBy(RegisteredModelEntity, { projectId, name: newName }))) {
        throw new AlreadyExistsError(`Registered Model (name=${newName}) already exists.`);
      }
      model.name = newName;
      await manager.update(RegisteredModelEntity, { id: model.id }, { name: newName });
    });
  }

  /** Deletes the model and its versions; FAILED_PRECONDITION naming an alias while one points at a version. */
  async delete(caller: Caller, projectId: string, name: string): Promise<void> {
    const model = await this.dataSource.transaction(async (manager) => {
      const model = await this.access.lock(manager, caller, projectId, name, { action: 'delete', kind: 'Model' });
      checkMayReplace(caller, model, 'delete');
      const held = await manager.find(AliasEntity, { where: { modelId: model.id }, order: { alias: 'ASC' } });
      if (held.length > 0) {
        const named = held.map((alias) => `${alias.alias} (version ${alias.version})`).join(', ');
        throw new FailedPreconditionError(`model "${name}" still has aliases: ${named}; delete them before the model`);
      }
      // Versions and tags go with the model (foreign keys cascade); the alias history stays.
      await manager.delete(RegisteredModelEntity, { id: model.id });
      await this.audit.recordIn(manager, caller);
      return model;
    });
    this.files.cancel(model.id);
    await this.files.deleteUnder(versionPrefix(model.projectId, model.id));
  }

  async setTag(caller: Caller, projectId: string, name: string, tag: Tag): Promise<void> {
    checkTag(tag, 'tag');
    await this.change(caller, projectId, name, async (manager, model) => {
      await manager.upsert(ModelTagEntity, { modelId: model.id, ...tag }, ['modelId', 'key']);
    });
  }

  async deleteTag(caller: Caller, projectId: string, name: string, key: string): Promise<void> {
    checkTagKey(key);
    await this.change(caller, projectId, name, async (manager, model) => {
      const { affected } = await manager.delete(ModelTagEntity, { modelId: model.id, key });
      if (!affected) throw new NotFoundError(`model "${name}" has no tag "${key}"`);
    });
  }

  /** A page of the models the caller may read, in the projects asked for (all readable ones when none are). */
  async search(caller: Caller, query: Omit<ModelQuery, 'projectIds'> & { projectIds: string[] }): Promise<{ models: ModelView[]; nextPageToken: string }> {
    for (const projectId of query.projectIds) caller.assert('read', 'Model', { projectId });
    const projectIds = query.projectIds.length > 0 ? query.projectIds : caller.boundProjectsWhere('read', 'Model');
    const page = await this.modelSearch.search({ ...query, projectIds });
    return { models: await this.views.models(page.models), nextPageToken: page.nextPageToken };
  }

  /** Runs `apply` on the locked model after checking the caller may update it, then audits the change. */
  private async change(caller: Caller, projectId: string, name: string, apply: (manager: EntityManager, model: RegisteredModelEntity) => Promise<void>): Promise<ModelView> {
    const target: ModelTarget = { action: 'update', kind: 'Model' };
    return this.dataSource.transaction(async (manager) => {
      const model = await this.access.lock(manager, caller, projectId, name, target);
      model.updatedAt = Date.now();
      await apply(manager, model);
      await manager.update(RegisteredModelEntity, { id: model.id }, { updatedAt: model.updatedAt });
      await this.audit.recordIn(manager, caller);
      return (await this.views.models([model], manager))[0];
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
  throw new PermissionDeniedError(
    `model "${model.name}" has protected aliases (${model.protectedAliases.join(', ')}): only a project admin may ${what} it`,
  );
}

/**
 * Protected aliases as given, checked and de-duplicated. Choosing them is a project admin's
 * decision (`update` on the project), as they decide who may move production's aliases.
 */
function protectedAliasesOf(caller: Caller, projectId: string, aliases: string[], always = false): string[] {
  aliases.forEach((alias, index) => checkAlias(alias, `protected_aliases[${index}]`));
  if (always || aliases.length > 0) caller.assert('update', 'Project', { projectId, id: projectId });
  return [...new Set(aliases)].sort();
}
