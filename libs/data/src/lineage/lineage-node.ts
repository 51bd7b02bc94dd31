import { checkLength, checkNoControlCharacters, checkRequired, InvalidArgumentError, resourceName } from '@trellis/platform';
import { LineageNodeKind } from '@trellis/proto/trellis/data/v1/lineage_service_pb';

/** The longest node name, as lineage_service.proto declares it. */
export const NODE_NAME_LENGTH = 1024;

/** A node name read: its kind, and the project its name states (model versions and dataset references), if any. */
export interface ParsedNode {
  name: string;
  kind: LineageNodeKind;
  projectId?: string;
}

/** The permission kind (RESOURCE_KINDS) a node of each kind is read and changed as. */
export const PERMISSION_KIND: Record<LineageNodeKind, string> = {
  [LineageNodeKind.UNSPECIFIED]: 'DatasetVersion',
  [LineageNodeKind.DATASET_VERSION]: 'DatasetVersion',
  [LineageNodeKind.JOB]: 'Job',
  [LineageNodeKind.RUN]: 'Run',
  [LineageNodeKind.MODEL_VERSION]: 'ModelVersion',
};

const VERSION = /^[1-9][0-9]{0,17}$/;

/**
 * Reads a node's resource name (`datasets/{id}/versions/{n}`, `projects/{p}/datasetReferences/{ref}`,
 * `jobs/{id}`, `runs/{id}`, `projects/{p}/models/{name}/versions/{n}`), or refuses it naming `field`.
 */
export function parseNode(name: string, field: string): ParsedNode {
  checkRequired(name, field);
  checkLength(name, NODE_NAME_LENGTH, field);
  checkNoControlCharacters(name, field);
  const parts = name.split('/');
  const segment = (index: number) => decodeSegment(parts[index], field);
  if (parts.some((part) => part === '')) throw invalidNode(field);
  if (parts.length === 4 && parts[0] === 'datasets' && parts[2] === 'versions' && VERSION.test(parts[3])) {
    segment(1);
    return { name, kind: LineageNodeKind.DATASET_VERSION };
  }
  if (parts.length === 2 && (parts[0] === 'jobs' || parts[0] === 'runs')) {
    segment(1);
    return { name, kind: parts[0] === 'jobs' ? LineageNodeKind.JOB : LineageNodeKind.RUN };
  }
  if (parts.length === 4 && parts[0] === 'projects' && parts[2] === 'datasetReferences') {
    segment(3);
    return { name, kind: LineageNodeKind.DATASET_VERSION, projectId: segment(1) };
  }
  if (parts.length === 6 && parts[0] === 'projects' && parts[2] === 'models' && parts[4] === 'versions' && VERSION.test(parts[5])) {
    segment(3);
    return { name, kind: LineageNodeKind.MODEL_VERSION, projectId: segment(1) };
  }
  throw invalidNode(field);
}

/** The node of a registry version. */
export function modelVersionNode(projectId: string, modelName: string, version: bigint | number): string {
  return resourceName(['projects', projectId], ['models', modelName], ['versions', String(version)]);
}

/** The node of a dataset version. */
export function datasetVersionNode(datasetId: string, version: bigint | number): string {
  return resourceName(['datasets', datasetId], ['versions', String(version)]);
}

/** The node of a `datasets:/` reference that names a version no dataset of the project resolves yet. */
export function datasetReferenceNode(projectId: string, reference: string): string {
  return resourceName(['projects', projectId], ['datasetReferences', reference]);
}

/** A `datasets:/<name>/<n>` or `datasets:/<name>@<tag>` reference, read. */
export type DatasetReference = { datasetName: string; version: number; tag?: undefined } | { datasetName: string; tag: string; version?: undefined };

const REFERENCE = /^datasets:\/([^/@]+)(?:\/([1-9][0-9]{0,15})|@([^/@]+))$/;

/**
 * The `datasets:/` reference a tracking dataset input names in its source: the source itself, or
 * the `uri` (or `url`, `path`) of the JSON object MLflow's dataset sources are; undefined for any
 * other source.
 */
export function datasetReferenceOf(source: string): { reference: string; parsed: DatasetReference } | undefined {
  const candidates = [source.trim()];
  if (source.trim().startsWith('{')) {
    try {
      const json = JSON.parse(source) as Record<string, unknown>;
      for (const key of ['uri', 'url', 'path']) if (typeof json[key] === 'string') candidates.push((json[key] as string).trim());
    } catch {
      // Not JSON: only the source as a whole can be a reference.
    }
  }
  for (const candidate of candidates) {
    const match = REFERENCE.exec(candidate);
    if (!match) continue;
    const [, datasetName, version, tag] = match;
    return { reference: candidate.slice('datasets:/'.length), parsed: version ? { datasetName, version: Number(version) } : { datasetName, tag } };
  }
  return undefined;
}

function decodeSegment(segment: string, field: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidNode(field);
  }
}

function invalidNode(field: string): InvalidArgumentError {
  return new InvalidArgumentError(
    'not a lineage node: name datasets/{dataset_id}/versions/{n}, jobs/{job_id}, runs/{run_id} or projects/{project_id}/models/{model_name}/versions/{n}',
    field,
    { reason: 'LINEAGE_NODE_INVALID' },
  );
}
