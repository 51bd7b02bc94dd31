import { Injectable } from '@nestjs/common';
import { AuditRecorder, type Caller, checkRequired, decodePageToken, excerpt, InvalidArgumentError, NotFoundError, pageOf, pageSizeOf } from '@trellis/platform';
import type { ResourceQuota, Resources } from '../admission';
import { addResources, isResourceName } from '../resources';
import { AdmissionSignal } from '../scheduling/admission-signal';
import { GrantEntity } from './queue.entity';
import { QueueRepository } from './queue.repository';
import { assertOrgAdmin, found, QUEUE_KIND } from './queue.service';

/** One quota as SetGrant takes it; a limit that is undefined is unset. */
export interface QuotaInput extends ResourceQuota {
  resource: string;
}

/** A grant with what its jobs hold now. */
export interface GrantView {
  grant: GrantEntity;
  usage: Resources;
}

/** Which grants to list, and which page. */
export interface GrantListQuery {
  queue: string;
  projectId: string;
  pageSize: number;
  pageToken: string;
}

/**
 * Grants: a project's quotas on a queue. Org admins set and delete them; a project's members read
 * its own; each change is audited and wakes the admission loop.
 */
@Injectable()
export class GrantService {
  constructor(
    private readonly repository: QueueRepository,
    private readonly audit: AuditRecorder,
    private readonly admission: AdmissionSignal,
  ) {}

  /** Sets the project's quotas on the queue, replacing the ones it had. */
  async set(caller: Caller, queue: string, projectId: string, quotas: readonly QuotaInput[]): Promise<GrantView> {
    assertOrgAdmin(caller, queue);
    checkRequired(queue, 'queue');
    checkRequired(projectId, 'project_id');
    const checked = checkQuotas(quotas);
    const grant = await this.repository.transaction(async (tx) => {
      found(await this.repository.lock(tx, queue), queue, caller);
      const now = Date.now();
      const existing = await this.repository.findGrant(queue, projectId, tx);
      const saved: GrantEntity = { queue, projectId, quotas: checked, createdAt: existing?.createdAt ?? now, updatedAt: now };
      await this.repository.saveGrant(tx, saved);
      await this.audit.recordIn(tx, caller, { id: `${queue}/${projectId}`, projectId, name: grantResource(queue, projectId), kind: QUEUE_KIND });
      return saved;
    });
    this.admission.wake();
    return (await this.withUsage([grant]))[0];
  }

  /** The grant, if the caller is an org admin or may read the project; NOT_FOUND `GRANT_NOT_FOUND` otherwise. */
  async get(caller: Caller, queue: string, projectId: string): Promise<GrantView> {
    checkRequired(queue, 'queue');
    checkRequired(projectId, 'project_id');
    const mayRead = caller.authenticated.orgAdmin || caller.can('read', QUEUE_KIND, { projectId });
    const grant = mayRead ? await this.repository.findGrant(queue, projectId) : null;
    if (!grant || (await this.repository.find(queue))?.orgId !== caller.authenticated.orgId) throw grantNotFound(queue, projectId);
    return (await this.withUsage([grant]))[0];
  }

  /** A page of the grants of a queue, a project, or both; a caller who is not an org admin sees only projects they may read. */
  async list(caller: Caller, query: GrantListQuery): Promise<{ grants: GrantView[]; nextPageToken: string }> {
    if (query.queue === '' && query.projectId === '') throw new InvalidArgumentError('give a queue, a project_id, or both', 'queue');
    const size = pageSizeOf(query.pageSize);
    const listing = { queue: query.queue, projectId: query.projectId };
    const after = decodePageToken(query.pageToken, listing);
    const readable = caller.projectsWhere('read', QUEUE_KIND);
    const projectIds = readable === 'all' ? (query.projectId ? [query.projectId] : undefined) : readable.filter((id) => query.projectId === '' || id === query.projectId);
    const rows = await this.repository.pageGrants({ orgId: caller.authenticated.orgId, queue: query.queue || undefined, projectIds }, after, size + 1);
    const { items, nextPageToken } = pageOf(rows, size, (grant) => `${grant.queue}\0${grant.projectId}`, listing);
    return { grants: await this.withUsage(items), nextPageToken };
  }

  /** Takes the grant away; the project's queued jobs there wait until one is set again. */
  async delete(caller: Caller, queue: string, projectId: string): Promise<void> {
    assertOrgAdmin(caller, queue);
    await this.repository.transaction(async (tx) => {
      if ((await this.repository.find(queue, tx))?.orgId !== caller.authenticated.orgId || !(await this.repository.findGrant(queue, projectId, tx))) throw grantNotFound(queue, projectId);
      await this.repository.deleteGrant(tx, queue, projectId);
      await this.audit.recordIn(tx, caller);
    });
    this.admission.wake();
  }

  private async withUsage(grants: GrantEntity[]): Promise<GrantView[]> {
    const holding = await this.repository.holdingJobs(grants);
    return grants.map((grant) => {
      const usage: Record<string, number> = {};
      for (const job of holding) if (job.queue === grant.queue && job.projectId === grant.projectId && job.admittedRequest) addResources(usage, job.admittedRequest, job.replicas);
      return { grant, usage };
    });
  }
}

function grantResource(queue: string, projectId: string): string {
  return `queues/${excerpt(queue)}/grants/${excerpt(projectId)}`;
}

function grantNotFound(queue: string, projectId: string): NotFoundError {
  return new NotFoundError(`project ${excerpt(projectId)} has no grant on queue ${excerpt(queue)}`, { reason: 'GRANT_NOT_FOUND', resource: grantResource(queue, projectId) });
}

function checkQuotas(quotas: readonly QuotaInput[]): Record<string, ResourceQuota> {
  const checked: Record<string, ResourceQuota> = {};
  quotas.forEach((quota, index) => {
    const field = `quotas[${index}]`;
    if (!isResourceName(quota.resource)) throw new InvalidArgumentError(`must be cpu, memory or gpu/<type> (got "${excerpt(quota.resource)}")`, `${field}.resource`);
    if (checked[quota.resource]) throw new InvalidArgumentError(`${quota.resource} is named twice`, `${field}.resource`);
    for (const [name, value] of [['nominal', quota.nominal], ['borrowing_limit', quota.borrowingLimit], ['lending_limit', quota.lendingLimit]] as const) {
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) throw new InvalidArgumentError('must be an integer of 0 or more', `${field}.${name}`);
    }
    if (quota.lendingLimit !== undefined && quota.lendingLimit > quota.nominal) throw new InvalidArgumentError('must be at most nominal', `${field}.lending_limit`);
    checked[quota.resource] = {
      nominal: quota.nominal,
      ...(quota.borrowingLimit === undefined ? {} : { borrowingLimit: quota.borrowingLimit }),
      ...(quota.lendingLimit === undefined ? {} : { lendingLimit: quota.lendingLimit }),
    };
  });
  return checked;
}
