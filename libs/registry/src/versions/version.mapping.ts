import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { ModelVersionSchema, ModelVersionStatus, type Signature, type ModelVersion, type TensorSpec } from '@trellis/proto';
import type { RegisteredModelEntity } from '../models/model.entity';
import type { Tag } from '../common/registry-limits';
import type { ModelVersionEntity, StoredTensor, VersionStatusName } from './version.entity';

/** A version with its model's project and name, its tags and the aliases pointing at it. */
export interface VersionView {
  version: ModelVersionEntity;
  model: Pick<RegisteredModelEntity, 'projectId' | 'name'>;
  tags: Tag[];
  aliases: string[];
}

const STATUSES: Record<VersionStatusName, ModelVersionStatus> = {
  PENDING: ModelVersionStatus.PENDING,
  READY: ModelVersionStatus.READY,
  FAILED: ModelVersionStatus.FAILED,
};

/** A request's signature as stored; null when the request has none. */
export function signatureOf(signature: Signature | undefined): { inputs: StoredTensor[]; outputs: StoredTensor[] } | null {
  const tensors = (specs: TensorSpec[]): StoredTensor[] => specs.map(({ name, dtype, shape }) => ({ name, dtype, shape: shape.map(Number) }));
  return signature ? { inputs: tensors(signature.inputs), outputs: tensors(signature.outputs) } : null;
}

export function versionToProto(view: VersionView): ModelVersion {
  const { version } = view;
  const tensors = (list: StoredTensor[]) => list.map((tensor) => ({ ...tensor, shape: tensor.shape.map(BigInt) }));
  return create(ModelVersionSchema, {
    projectId: view.model.projectId,
    modelName: view.model.name,
    version: BigInt(version.version),
    source: version.source,
    runId: version.runId ?? '',
    storageUri: version.storageUri,
    status: STATUSES[version.status],
    statusMessage: version.statusMessage,
    format: version.format,
    signature: version.signature ? { inputs: tensors(version.signature.inputs), outputs: tensors(version.signature.outputs) } : undefined,
    description: version.description,
    runLink: version.runLink,
    tags: view.tags,
    aliases: view.aliases,
    creatorId: version.creatorId,
    createTime: timestampFromMs(version.createdAt),
    updateTime: timestampFromMs(version.updatedAt),
  });
}
