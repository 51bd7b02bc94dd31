import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  ColumnKind,
  MonitoredColumnSchema,
  MonitorSchema,
  ReferenceSchema,
  MonitorState,
  TaskType,
  type CreateMonitorRequest,
  type Monitor,
  type PerformanceSpec,
  type Reference,
} from '@trellis/proto';
import type { ColumnKindName, MonitoredColumnRow, MonitorEntity, MonitorStateName, StoredPerformance, StoredReference } from './monitor.entity';
import type { NewMonitor, RequestedReference } from './new-monitor';

const STATES: Record<MonitorStateName, MonitorState> = { pending: MonitorState.PENDING, active: MonitorState.ACTIVE, failed: MonitorState.FAILED };
const KINDS: Record<ColumnKindName, ColumnKind> = { numeric: ColumnKind.NUMERIC, categorical: ColumnKind.CATEGORICAL };

/** The proto of a stored monitor, as every call and event returns it. */
export function monitorToProto(entity: MonitorEntity): Monitor {
  return create(MonitorSchema, {
    id: entity.id,
    projectId: entity.projectId,
    name: entity.name,
    description: entity.description,
    creatorId: entity.creatorId,
    createTime: timestampFromMs(entity.createdAt),
    updateTime: timestampFromMs(entity.updatedAt),
    source: entity.datasetId
      ? { case: 'dataset', value: { datasetName: entity.datasetName ?? '', path: entity.datasetPath ?? '' } }
      : { case: 'endpoint', value: { endpointName: entity.endpointName } },
    reference: referenceToProto(entity.reference),
    window: { rows: BigInt(entity.windowRows), durationSeconds: BigInt(entity.windowSeconds), slide: BigInt(entity.windowSlide) },
    columns: entity.requestedColumns,
    tensorColumns: entity.tensorColumns,
    detectors: entity.detectors,
    driftShare: entity.driftShare,
    performance: entity.performance ? performanceToProto(entity.performance) : undefined,
    state: STATES[entity.state],
    stateMessage: entity.stateMessage,
    monitoredColumns: entity.monitoredColumns.map(monitoredColumnToProto),
    windowsClosed: BigInt(entity.windowsClosed),
  });
}

/** What CreateMonitor asks for, in the service's terms; fields are checked by the service. */
export function newMonitorOf(request: CreateMonitorRequest): NewMonitor {
  return {
    projectId: request.projectId,
    name: request.name,
    description: request.description,
    endpointName: request.endpoint?.endpointName ?? '',
    dataset: request.dataset ? { datasetName: request.dataset.datasetName, path: request.dataset.path } : null,
    reference: requestedReference(request.reference),
    window: {
      rows: Number(request.window?.rows ?? 0n),
      durationSeconds: Number(request.window?.durationSeconds ?? 0n),
      slide: Number(request.window?.slide ?? 0n),
    },
    columns: request.columns,
    tensorColumns: request.tensorColumns.map(({ tensor, names }) => ({ tensor, names })),
    detectors: request.detectors.map(({ column, detector, threshold }) => ({ column, detector, threshold })),
    driftShare: request.driftShare,
    performance: request.performance ? performanceOf(request.performance) : null,
  };
}

function requestedReference(reference: Reference | undefined): RequestedReference {
  switch (reference?.kind.case) {
    case 'datasetVersion':
      return { kind: 'dataset_version', datasetUri: reference.kind.value.datasetUri, path: reference.kind.value.path };
    case 'logWindow':
      return { kind: 'log_window', rows: Number(reference.kind.value.rows) };
    default:
      return { kind: 'lineage' };
  }
}

function referenceToProto(reference: StoredReference): MessageInitShape<typeof ReferenceSchema> {
  return reference.kind === 'dataset_version'
    ? { origin: reference.origin, kind: { case: 'datasetVersion', value: { datasetUri: reference.datasetUri, path: reference.path } } }
    : { origin: reference.origin, kind: { case: 'logWindow', value: { rows: BigInt(reference.rows) } } };
}

/** The performance spec as asked; task UNSPECIFIED stays `undefined` for the service to refuse. */
function performanceOf(spec: PerformanceSpec): StoredPerformance {
  const task = spec.task === TaskType.CLASSIFICATION ? 'classification' : spec.task === TaskType.REGRESSION ? 'regression' : (undefined as unknown as StoredPerformance['task']);
  return { task, predictionTensor: spec.predictionTensor, positiveClass: spec.positiveClass, decisionThreshold: spec.decisionThreshold };
}

function performanceToProto(performance: StoredPerformance) {
  return {
    task: performance.task === 'classification' ? TaskType.CLASSIFICATION : TaskType.REGRESSION,
    predictionTensor: performance.predictionTensor,
    positiveClass: performance.positiveClass,
    decisionThreshold: performance.decisionThreshold,
  };
}

function monitoredColumnToProto(column: MonitoredColumnRow): MessageInitShape<typeof MonitoredColumnSchema> {
  return { name: column.name, kind: KINDS[column.kind], output: column.output, tensor: column.tensor, index: column.index, detector: column.detector, threshold: column.threshold };
}
