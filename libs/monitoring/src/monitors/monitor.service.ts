import { create } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import {
  AlreadyExistsError,
  AuditRecorder,
  FailedPreconditionError,
  forwardAs,
  InvalidArgumentError,
  LOGGER,
  type Logger,
  ServiceIdentity,
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
import { FileProfile } from '@trellis/proto/trellis/data/v1/profile_service_pb';
import { resolveProfileColumns } from '../datasets/dataset-columns';
import { resolveTensorColumns } from './column-resolution';
import { Lineage } from './lineage';
import type { MonitoredColumnRow, MonitorEntity, StoredPerformance, TensorDescription } from './monitor.entity';
import { profileReference, type ProfileReference } from './profile-reference';
import type { NewMonitor } from './new-monitor';
import { ReferenceFitter } from './reference-fitter';
import { monitorToProto } from './monitor.mapping';
import { MonitorRepository } from './monitor.repository';

/** The resource kind of monitors in permission rules and audit records. */
export const MONITOR_KIND = 'Monitor';

/** The longest name and description, as resources.proto declares them. */
const LIMITS = { nameLength: 128, descriptionLength: 4096, columnNameLength: 256, uriLength: 600, pathLength: 1024 };

/** The fields UpdateMonitor may change, named in its update_mask. */
const UPDATABLE = ['description'] as const;

/** Window sizes and log-window rows the contract allows. */
const WINDOW = { rows: 1_000_000, seconds: 2_592_000, defaultRows: 1000 };

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
    private readonly fitter: ReferenceFitter,
    private readonly lineage: Lineage,
    private readonly identity: ServiceIdentity,
    @Inject(SERVICE_CONFIG) private readonly config: MonitoringConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Stores a new monitor by the caller; its name must be free in the project, and the project under
   * its quota. Its reference is resolved with the caller's credential: a dataset version's profile
   * (lineage's when none is given) fits it at once when ready, else it stays PENDING until the
   * pending-reference worker finds the profile ready; a log-window reference is fitted by the
   * windows feature from the first rows logged, and needs nothing of serving now.
   */
  async create(caller: Caller, input: NewMonitor): Promise<MonitorEntity> {
    checkRequired(input.projectId, 'project_id');
    caller.assert('create', MONITOR_KIND, { projectId: input.projectId });
    const checked = checkNewMonitor(input);
    await this.fitter.check(input.detectors);
    const now = Date.now();
    const monitor: MonitorEntity = {
      id: randomUUID(),
      projectId: input.projectId,
      name: input.name,
      description: input.description,
      creatorId: caller.authenticated.id,
      createdAt: now,
      updatedAt: now,
      endpointName: input.endpointName,
      reference: { kind: 'log_window', rows: 0, origin: 'given' },
      ...checked.window,
      requestedColumns: input.columns,
      tensorColumns: input.tensorColumns,
      detectors: input.detectors,
      driftShare: checked.driftShare,
      performance: checked.performance,
      state: 'pending',
      stateMessage: '',
      monitoredColumns: [],
      windowsClosed: 0,
    };
    let ready: { file: FileProfile; columns: MonitoredColumnRow[] } | undefined;
    if (input.dataset) {
      ready = await this.datasetReference(caller, monitor, input.dataset, input.reference, input.detectors);
    } else if (input.reference.kind === 'log_window') {
      monitor.reference = { kind: 'log_window', rows: input.reference.rows, origin: 'given' };
      monitor.stateMessage = `waiting for the first ${input.reference.rows} logged rows, the reference`;
    } else {
      const options = forwardAs(caller);
      const model = await this.lineage.servedModel(options, input.projectId, input.endpointName);
      checkPredictionTensor(monitor, model.tensors);
      const given = input.reference.kind === 'dataset_version' ? { uri: input.reference.datasetUri, origin: 'given' } : await this.lineage.trainingDataset(options, input.projectId, model);
      const path = input.reference.kind === 'dataset_version' ? input.reference.path : '';
      const dataset = await this.lineage.dataset(options, input.projectId, given.uri);
      monitor.reference = { kind: 'dataset_version', datasetUri: dataset.uri, path, origin: given.origin, datasetId: dataset.datasetId, version: dataset.version, tensors: model.tensors };
      const profile = await this.lineage.profile(options, dataset, path);
      if (profile.state === 'ready') {
        const columns = columnsOfProfile(monitor, model.tensors, profileReference(profile.file));
        await this.fitter.check(input.detectors, (name) => columns.find((column) => column.name === name)?.kind);
        ready = { file: profile.file, columns };
      } else {
        monitor.state = profile.state;
        monitor.stateMessage = profile.message;
      }
    }
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
      await this.repository.insert(tx, monitor);
      if (ready) {
        const reference = profileReference(ready.file);
        await this.fitter.fit(tx, monitor, ready.columns, reference.summaries, reference.rows);
      }
      await this.outbox.publish(tx, monitoringEvents, {
        subject: 'trellis.monitoring.v1.monitor.created',
        message: create(MonitorCreatedEventSchema, { monitor: monitorToProto(monitor) }),
        ...contextOf(caller, monitor.projectId),
      });
      await this.audit.recordIn(tx, caller, { id: monitor.id, projectId: monitor.projectId });
      return monitor;
    });
  }

  /**
   * The reference of a monitor of a dataset's versions, set on `monitor`: the version given (of
   * that dataset), else the dataset's latest live version now; and its profiled file's columns when
   * the profile is ready (the monitor stays PENDING otherwise).
   */
  private async datasetReference(
    caller: Caller,
    monitor: MonitorEntity,
    source: NonNullable<NewMonitor['dataset']>,
    requested: NewMonitor['reference'],
    detectors: NewMonitor['detectors'],
  ): Promise<{ file: FileProfile; columns: MonitoredColumnRow[] } | undefined> {
    const options = forwardAs(caller);
    const watched = await this.lineage.datasetNamed(options, monitor.projectId, source.datasetName);
    let given: { uri: string; origin: string };
    if (requested.kind === 'dataset_version') {
      given = { uri: requested.datasetUri, origin: 'given' };
    } else {
      if (watched.latestVersion === 0) throw new NotFoundError(`dataset "${excerpt(source.datasetName)}" has no live version to be the reference; commit one first`, { reason: 'REFERENCE_NOT_FOUND' });
      const uri = `datasets:/${watched.name}/${watched.latestVersion}`;
      given = { uri, origin: `latest version at creation: ${uri}` };
    }
    const dataset = await this.lineage.dataset(options, monitor.projectId, given.uri);
    if (dataset.datasetId !== watched.datasetId) {
      throw new InvalidArgumentError(`names a version of another dataset than dataset.dataset_name "${excerpt(source.datasetName)}"`, 'reference.dataset_version.dataset_uri');
    }
    const path = requested.kind === 'dataset_version' && requested.path ? requested.path : source.path;
    Object.assign(monitor, { datasetId: watched.datasetId, datasetName: watched.name, datasetPath: source.path });
    monitor.reference = { kind: 'dataset_version', datasetUri: dataset.uri, path, origin: given.origin, datasetId: dataset.datasetId, version: dataset.version, tensors: [] };
    const profile = await this.lineage.profile(options, dataset, path);
    if (profile.state !== 'ready') {
      monitor.state = profile.state;
      monitor.stateMessage = profile.message;
      return undefined;
    }
    const columns = resolveProfileColumns(monitor, profileReference(profile.file));
    await this.fitter.check(detectors, (name) => columns.find((column) => column.name === name)?.kind);
    return { file: profile.file, columns };
  }

  /**
   * Fits the monitors whose reference profile was still being computed, as the service's own
   * account on behalf of each monitor's creator: those whose profile is ready now become ACTIVE (or
   * FAILED, saying why), those whose profile failed FAILED; the others wait for the next pass. One
   * monitor's trouble (data unreachable) leaves it for the next pass and does not stop the others.
   */
  async fitPendingReferences(signal?: AbortSignal): Promise<void> {
    for (const pending of await this.repository.pendingProfiles()) {
      if (signal?.aborted) return;
      const reference = pending.reference;
      if (reference.kind !== 'dataset_version') continue;
      try {
        const options = await this.identity.callOptions({ onBehalfOf: pending.creatorId, projectId: pending.projectId, signal });
        const profile = await this.lineage.profile(options, { datasetId: reference.datasetId, version: reference.version, uri: reference.datasetUri }, reference.path);
        if (profile.state === 'pending') continue;
        await this.repository.transaction(async (tx) => {
          const monitor = await this.repository.lockById(tx, pending.id);
          if (!monitor || monitor.state !== 'pending') return;
          if (profile.state === 'failed') {
            await this.repository.save(tx, Object.assign(monitor, { state: 'failed', stateMessage: profile.message, updatedAt: Date.now() }));
            return;
          }
          const fitted = profileReference(profile.file);
          let columns: MonitoredColumnRow[];
          try {
            columns = monitor.datasetId ? resolveProfileColumns(monitor, fitted) : columnsOfProfile(monitor, reference.tensors, fitted);
          } catch (error) {
            await this.repository.save(tx, Object.assign(monitor, { state: 'failed', stateMessage: (error as Error).message, updatedAt: Date.now() }));
            return;
          }
          await this.fitter.fit(tx, monitor, columns, fitted.summaries, fitted.rows);
        });
      } catch (error) {
        this.logger.warn({ monitor: pending.id, err: error }, `the reference of monitor ${pending.id} could not be fitted now: ${(error as Error).message}; trying again`);
      }
    }
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

/** The window, drift share and performance of a new monitor, checked and with their defaults; INVALID_ARGUMENT naming the field. */
function checkNewMonitor(input: NewMonitor): Pick<MonitorEntity, 'driftShare' | 'performance'> & { window: Pick<MonitorEntity, 'windowRows' | 'windowSeconds' | 'windowSlide'> } {
  checkName(input.name);
  checkDescription(input.description);
  if (input.dataset) return checkDatasetMonitor(input, input.dataset);
  checkRequired(input.endpointName, 'endpoint.endpoint_name');
  checkLength(input.endpointName, LIMITS.nameLength, 'endpoint.endpoint_name');
  const reference = input.reference;
  if (reference.kind === 'dataset_version') checkDatasetVersionReference(reference);
  if (reference.kind === 'log_window') checkRange(reference.rows, 1, WINDOW.rows, 'reference.log_window.rows');
  const { rows, durationSeconds, slide } = input.window;
  if (rows !== 0 && durationSeconds !== 0) throw new InvalidArgumentError('is set with window.duration_seconds; set exactly one', 'window.rows');
  if (rows !== 0) checkRange(rows, 1, WINDOW.rows, 'window.rows');
  if (durationSeconds !== 0) checkRange(durationSeconds, 1, WINDOW.seconds, 'window.duration_seconds');
  const windowRows = rows === 0 && durationSeconds === 0 ? WINDOW.defaultRows : rows;
  const size = windowRows || durationSeconds;
  if (slide !== 0) checkRange(slide, 1, size, 'window.slide');
  checkColumnsAndDetectors(input);
  for (const [index, entry] of input.tensorColumns.entries()) {
    checkRequired(entry.tensor, `tensor_columns[${index}].tensor`);
    checkLength(entry.tensor, LIMITS.columnNameLength, `tensor_columns[${index}].tensor`);
    if (entry.names.length === 0) throw new InvalidArgumentError('is required: one name per column of the tensor', `tensor_columns[${index}].names`);
    checkNames(entry.names, `tensor_columns[${index}].names`);
    if (input.tensorColumns.findIndex((other) => other.tensor === entry.tensor) !== index) throw new InvalidArgumentError(`names tensor "${excerpt(entry.tensor)}" again`, `tensor_columns[${index}].tensor`);
  }
  return {
    window: { windowRows, windowSeconds: durationSeconds, windowSlide: slide || size },
    driftShare: checkDriftShare(input.driftShare),
    performance: input.performance && checkPerformance(input.performance),
  };
}

/** A dataset version given as the reference: a datasets:/ URI and an optional file path. */
function checkDatasetVersionReference(reference: { datasetUri: string; path: string }): void {
  checkRequired(reference.datasetUri, 'reference.dataset_version.dataset_uri');
  checkLength(reference.datasetUri, LIMITS.uriLength, 'reference.dataset_version.dataset_uri');
  if (!reference.datasetUri.startsWith('datasets:/')) throw new InvalidArgumentError('is datasets:/<name>/<version> or datasets:/<name>@<tag>', 'reference.dataset_version.dataset_uri');
  checkLength(reference.path, LIMITS.pathLength, 'reference.dataset_version.path');
  checkNoNul(reference.path, 'reference.dataset_version.path');
}

/**
 * A monitor of a dataset's versions: exactly one source, a dataset version (or no) reference, and
 * none of what only prediction logs have (windows, tensor columns, performance); its windows are
 * the dataset's versions.
 */
function checkDatasetMonitor(input: NewMonitor, dataset: NonNullable<NewMonitor['dataset']>): ReturnType<typeof checkNewMonitor> {
  if (input.endpointName !== '') throw new InvalidArgumentError('is set with endpoint; set exactly one of endpoint and dataset', 'dataset');
  checkRequired(dataset.datasetName, 'dataset.dataset_name');
  checkLength(dataset.datasetName, LIMITS.nameLength, 'dataset.dataset_name');
  checkNoControlCharacters(dataset.datasetName, 'dataset.dataset_name');
  checkLength(dataset.path, LIMITS.pathLength, 'dataset.path');
  checkNoNul(dataset.path, 'dataset.path');
  const reference = input.reference;
  if (reference.kind === 'log_window') throw new InvalidArgumentError('is not taken by a monitor of a dataset: its reference is a version of the dataset', 'reference.log_window');
  if (reference.kind === 'dataset_version') checkDatasetVersionReference(reference);
  const { rows, durationSeconds, slide } = input.window;
  if (rows !== 0 || durationSeconds !== 0 || slide !== 0) throw new InvalidArgumentError('is not taken by a monitor of a dataset: each version of the dataset is one window', 'window');
  if (input.tensorColumns.length) throw new InvalidArgumentError('is not taken by a monitor of a dataset: its columns are those of the file', 'tensor_columns');
  if (input.performance) throw new InvalidArgumentError('is not taken by a monitor of a dataset: it has no predictions to compare with labels', 'performance');
  checkColumnsAndDetectors(input);
  return { window: { windowRows: 0, windowSeconds: 0, windowSlide: 0 }, driftShare: checkDriftShare(input.driftShare), performance: null };
}

/** The requested columns and detector overrides, each named once. */
function checkColumnsAndDetectors(input: NewMonitor): void {
  checkNames(input.columns, 'columns');
  for (const [index, choice] of input.detectors.entries()) {
    checkRequired(choice.column, `detectors[${index}].column`);
    checkLength(choice.column, LIMITS.columnNameLength, `detectors[${index}].column`);
    checkLength(choice.detector, LIMITS.nameLength, `detectors[${index}].detector`);
    if (!Number.isFinite(choice.threshold) || choice.threshold < 0) throw new InvalidArgumentError('is a p-value strictly between 0 and 1, a distance of 0 or more, or 0 for the detector\'s own', `detectors[${index}].threshold`);
    if (input.detectors.findIndex((other) => other.column === choice.column) !== index) throw new InvalidArgumentError(`names column "${excerpt(choice.column)}" again`, `detectors[${index}].column`);
  }
}

/** The share of drifted columns at which a window is dataset drift: 0 is 0.5. */
function checkDriftShare(share: number): number {
  if (!Number.isFinite(share) || share < 0 || share > 1) throw new InvalidArgumentError('is above 0 and at most 1 (0 for 0.5)', 'drift_share');
  return share || 0.5;
}

/** A performance spec with its defaults: positive class "1", decision threshold 0.5. */
function checkPerformance(performance: StoredPerformance): StoredPerformance {
  if (!performance.task) throw new InvalidArgumentError('is CLASSIFICATION or REGRESSION when performance is set', 'performance.task');
  checkLength(performance.predictionTensor, LIMITS.columnNameLength, 'performance.prediction_tensor');
  checkLength(performance.positiveClass, LIMITS.columnNameLength, 'performance.positive_class');
  const threshold = performance.decisionThreshold;
  if (!Number.isFinite(threshold) || threshold < 0 || threshold >= 1) throw new InvalidArgumentError('is strictly between 0 and 1 (0 for 0.5)', 'performance.decision_threshold');
  return { ...performance, positiveClass: performance.positiveClass || '1', decisionThreshold: threshold || 0.5 };
}

/** The prediction tensor, once the model's outputs are known: the first output when none is named. */
function checkPredictionTensor(monitor: MonitorEntity, tensors: readonly TensorDescription[]): void {
  const performance = monitor.performance;
  if (!performance) return;
  const outputs = tensors.filter((tensor) => tensor.output).map((tensor) => tensor.name);
  if (performance.predictionTensor === '') {
    if (outputs.length === 0) throw new InvalidArgumentError('is required: the model has no output', 'performance.prediction_tensor');
    performance.predictionTensor = outputs[0];
  } else if (!outputs.includes(performance.predictionTensor)) {
    throw new InvalidArgumentError(`names no output of the model; its outputs are ${outputs.map((name) => `"${excerpt(name)}"`).join(', ')}`, 'performance.prediction_tensor');
  }
}

/**
 * The columns a monitor scores against a profiled file: the tensors' columns the profile has,
 * each of the kind the profile read it as. FAILED_PRECONDITION (COLUMNS_UNRESOLVED) otherwise.
 */
function columnsOfProfile(monitor: MonitorEntity, tensors: readonly TensorDescription[], reference: ProfileReference): MonitoredColumnRow[] {
  const columns = resolveTensorColumns(monitor, tensors, reference.columns);
  for (const column of columns) {
    const kind = reference.kinds.get(column.name);
    if (kind !== column.kind) {
      const read = kind ? `${kind} in the reference` : 'of a type the reference cannot compare (timestamps)';
      throw new FailedPreconditionError(`column "${excerpt(column.name)}" is ${column.kind} in tensor "${column.tensor}" and ${read}`, { reason: 'COLUMNS_UNRESOLVED' });
    }
  }
  return columns;
}

/** Column names: each 1 to 256 characters, without control characters. */
function checkNames(names: readonly string[], field: string): void {
  for (const [index, name] of names.entries()) {
    checkRequired(name, `${field}[${index}]`);
    checkLength(name, LIMITS.columnNameLength, `${field}[${index}]`);
    checkNoControlCharacters(name, `${field}[${index}]`);
  }
}

/** A whole number from `min` to `max`. */
function checkRange(value: number, min: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new InvalidArgumentError(`is ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}, not ${value}`, field);
}
