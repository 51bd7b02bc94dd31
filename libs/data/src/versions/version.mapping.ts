import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  DatasetFileChangeSchema,
  DatasetFileSchema,
  DatasetVersionSchema,
  type DatasetFile,
  type DatasetFileChange,
  type DatasetVersion,
  type FileChangeKind,
} from '@trellis/proto/trellis/data/v1/resources_pb';
import type { CommitDatasetVersionHeader } from '@trellis/proto/trellis/data/v1/data_service_pb';
import type { VersionFileEntity, VersionView } from './version.entity';
import type { FileChangeRow } from './version.repository';
import { type CommitHeader, referenceOf } from './version-rules';

/** The proto of a stored version, as every call and event returns it. */
export function versionToProto({ version, dataset, tags }: VersionView): DatasetVersion {
  return create(DatasetVersionSchema, {
    datasetId: dataset.id,
    projectId: dataset.projectId,
    datasetName: dataset.name,
    version: BigInt(version.number),
    parentVersion: BigInt(version.parentNumber),
    message: version.message,
    authorId: version.authorId,
    createTime: timestampFromMs(version.createdAt),
    fileCount: BigInt(version.fileCount),
    totalBytes: BigInt(version.totalBytes),
    storageInstance: version.storeName,
    tags,
    reference: referenceOf(dataset.name, version.number),
  });
}

/** A commit's header as the service takes it; a parent number beyond 2^53 is refused by the service's range check. */
export function commitHeaderOf(header: CommitDatasetVersionHeader): CommitHeader {
  return { datasetId: header.datasetId, parentVersion: Number(header.parentVersion), message: header.message, fullManifest: header.fullManifest, tags: header.tags };
}

export function fileToProto(file: VersionFileEntity): DatasetFile {
  return create(DatasetFileSchema, { path: file.path, sizeBytes: BigInt(file.size), sha256: file.sha256, mediaType: file.mediaType });
}

export function changeToProto(change: FileChangeRow): DatasetFileChange {
  return create(DatasetFileChangeSchema, {
    path: change.path,
    kind: change.kind as FileChangeKind,
    fromSizeBytes: BigInt(change.fromSize),
    toSizeBytes: BigInt(change.toSize),
    fromSha256: change.fromSha256,
    toSha256: change.toSha256,
  });
}
