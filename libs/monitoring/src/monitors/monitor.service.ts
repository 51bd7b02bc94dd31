import { create } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import {
  AlreadyExistsError,
  AuditRecorder,
  type Action,
  type Caller,
  checkLength,
  checkNoControlCharacters,
  checkNoNul,
  checkRequired,
  checkUpdateMask,
  decodePageToken,
  excerpt,
  NotFoundError,
  Outbox,
  pageOf,
  pageSizeOf,
  ResourceExhaustedError,
  SERVICE_CONFIG,
} from '@trellis/platform';
import { MonitorCreatedEventSchema, MonitorDeletedEventSchema } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import type { MonitoringConfig } from '../monitoring.config';
import { monitoringEvents } from '../monitoring.events';
import { MonitorEntity } from './monitor.entity';
import { monitorToProto } from './monitor.mapping';
import { MonitorRepository } from './monitor.repository';

/** The resource kind of monitors in permission rules and audit records. */
export const MONITOR_KIND = 'Monitor';

/** The longest name and description, as resources.proto declares them. */
const LIMITS = { nameLength: 128, descriptionLength: 4096 };

/** The fields UpdateMonitor may change, named in its update_mask. */
const UPDATABLE = ['description'] as const;

/** What a new monitor needs. */
export interface NewMonitor {
  projectId: string;
  name: string;
  description: string;
}

/** What UpdateMonitor changes: the fields its mask names. */
export interface MonitorUpdate {
  description: string;
  updateMask: readonly string[];
}

/** Which of a project's monitors to list, and which page. */
export interface MonitorListQuery {
  projectId: string;
  /** 0 means 100; more than 1000 means 1000. */
  pageSize: number;
  /** `nextPageToken` of the previous page, or empty for the first. */
  pageToken: string;
}

/** One page of monitors, in name order. */
export interface MonitorPage {
  monitors: MonitorEntity[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/**
 * The monitors of each project: who may do what, and each change written with its event and
 * its audit record in one transaction.
 */
@Injectable()
export class MonitorService {
  constructor(
    private readonly repository: MonitorRepository,
    private readonly audit: AuditRecorder,
    private readonly outbox: Outbox,
    @Inject(SERVICE_CONFIG) private readonly config: MonitoringConfig,
  ) {}

  /** Stores a new monitor by the caller; its name must be free in the project, and the project under its quota. */
  async create(caller: Caller, input: NewMonitor): Promise<MonitorEntity> {
    checkRequired(input.projectId, 'project_id');
    caller.assert('create', MONITOR_KIND, { projectId: input.projectId });
    checkName(input.name);
    checkDescription(input.description);
    return this.repository.transaction(async (tx) => {
      if (await this.repository.nameTaken(tx, input.projectId, input.name)) {
        throw new AlreadyExistsError(`project ${input.projectId} already has a monitor named "${excerpt(input.name)}"`, { reason: 'MONITOR_NAME_TAKEN' });
      }
      const limit = this.config.maxMonitorsPerProject;
      if ((await this.repository.countIn(tx, input.projectId)) >= limit) {
        throw new ResourceExhaustedError(`project ${input.projectId} holds ${limit} monitors, the most services.monitoring.maxMonitorsPerProject allows; delete one first`, undefined, {
          reason: 'MONITORS_LIMIT_REACHED',
        });
      }
      const now = Date.now();
      // Placeholder until CreateMonitor resolves endpoints and references (issue 17 in progress).
      const monitor: MonitorEntity = {
        id: randomUUID(),
        ...input,
        creatorId: caller.authenticated.id,
        createdAt: now,
        updatedAt: now,
        endpointName: '',
        reference: { kind: 'log_window', rows: 1000, origin: 'given' },
        windowRows: 1000,
        windowSeconds: 0,
        windowSlide: 1000,
        requestedColumns: [],
        tensorColumns: [],
        detectors: [],
        driftShare: 0.5,
        performance: null,
        state: 'pending',
        stateMessage: '',
        monitoredColumns: [],
        windowsClosed: 0,
      };
      await this.repository.insert(tx, monitor);
      await this.outbox.publish(tx, monitoringEvents, {
        subject: 'trellis.monitoring.v1.monitor.created',
        message: create(MonitorCreatedEventSchema, { monitor: monitorToProto(monitor) }),
        ...contextOf(caller, monitor.projectId),
      });
      await this.audit.recordIn(tx, caller, { id: monitor.id, projectId: monitor.projectId });
      return monitor;
    });
  }

  /** The monitor, if the caller may read it. */
  async get(caller: Caller, id: string): Promise<MonitorEntity> {
    checkRequired(id, 'monitor_id');
    return visible(caller, await this.repository.findById(id), id, 'read');
  }

  /** A page of the project's monitors, in name order. */
  async list(caller: Caller, query: MonitorListQuery): Promise<MonitorPage> {
    checkRequired(query.projectId, 'project_id');
    caller.assert('read', MONITOR_KIND, { projectId: query.projectId });
    const size = pageSizeOf(query.pageSize);
    const listing = { projectId: query.projectId };
    const after = decodePageToken(query.pageToken, listing);
    const rows = await this.repository.page(query.projectId, after, size + 1);
    const { items, nextPageToken } = pageOf(rows, size, (row) => row.name, listing);
    return { monitors: items, nextPageToken };
  }

  /** Changes the fields the mask names (`*`: every field that can change) and nothing else. */
  async update(caller: Caller, id: string, update: MonitorUpdate): Promise<MonitorEntity> {
    checkRequired(id, 'monitor.id');
    const paths = update.updateMask.length === 1 && update.updateMask[0] === '*' ? UPDATABLE : update.updateMask;
    const mask = checkUpdateMask(paths, UPDATABLE);
    const changes: Partial<MonitorEntity> = {};
    if (mask.has('description')) {
      checkDescription(update.description, 'monitor.description');
      changes.description = update.description;
    }
    return this.repository.transaction(async (tx) => {
      const monitor = visible(caller, await this.repository.lockById(tx, id), id, 'update');
      Object.assign(monitor, changes, { updatedAt: Date.now() });
      await this.repository.update(tx, id, { ...changes, updatedAt: monitor.updatedAt });
      await this.audit.recordIn(tx, caller);
      return monitor;
    });
  }

  /** Removes the monitor and says so in an event. */
  async delete(caller: Caller, id: string): Promise<void> {
    checkRequired(id, 'monitor_id');
    await this.repository.transaction(async (tx) => {
      const monitor = visible(caller, await this.repository.lockById(tx, id), id, 'delete');
      await this.repository.delete(tx, id);
      await this.outbox.publish(tx, monitoringEvents, {
        subject: 'trellis.monitoring.v1.monitor.deleted',
        message: create(MonitorDeletedEventSchema, { monitor: monitorToProto(monitor) }),
        ...contextOf(caller, monitor.projectId),
      });
      await this.audit.recordIn(tx, caller);
    });
  }
}

/**
 * The monitor after checking that the caller may `action` it. One the caller may not even read
 * is NOT_FOUND, as a missing one is, so that ids of other projects' monitors do not leak.
 */
function visible(caller: Caller, monitor: MonitorEntity | null, id: string, action: Action): MonitorEntity {
  if (!monitor || !caller.can('read', MONITOR_KIND, { projectId: monitor.projectId, id: monitor.id })) {
    throw new NotFoundError(`monitor ${excerpt(id)} not found`, { reason: 'MONITOR_NOT_FOUND' });
  }
  caller.assert(action, MONITOR_KIND, { projectId: monitor.projectId, id: monitor.id });
  return monitor;
}

/** Who caused an event, for its envelope. */
function contextOf(caller: Caller, projectId: string) {
  return { projectId, actor: caller.authenticated.id, requestId: caller.requestId };
}

/** A name: required, at most 128 characters, no control character (names show in lists and logs). */
function checkName(name: string): void {
  checkRequired(name.trim(), 'name');
  checkLength(name, LIMITS.nameLength, 'name');
  checkNoControlCharacters(name, 'name');
}

/** A description: at most 4096 characters, no NUL (which PostgreSQL cannot store). */
function checkDescription(description: string, field = 'description'): void {
  checkLength(description, LIMITS.descriptionLength, field);
  checkNoNul(description, field);
}
