import { defineService, subscription } from '@trellis/platform';
import { BlobServiceDesc, DataServiceDesc, JobEventSchema, LineageServiceDesc, RunInputsLoggedEventSchema, VersionCreatedEventSchema } from '@trellis/proto';
import { BlobGcWorker } from './blobs/blob-gc.worker';
import { BlobUploadEntity, BlobUploadPartEntity } from './blobs/blob-upload.entity';
import { BlobEntity } from './blobs/blob.entity';
import { ProjectBlobEntity } from './blobs/project-blob.entity';
import { DatasetEntity } from './datasets/dataset.entity';
import { VersionEntity, VersionFileEntity, VersionTagEntity } from './versions/version.entity';
import { dataConfig } from './data.config';
import { DataModule } from './data.module';
import { LineageEdgeEntity, LineageNodeEntity } from './lineage/lineage.entity';
import { JOB_QUEUED, JOB_RUNNING, JobEventHandler } from './lineage/job-event.handler';
import { RUN_INPUTS_LOGGED, RunInputsLoggedHandler } from './lineage/run-inputs-logged.handler';
import { VERSION_CREATED, VersionCreatedHandler } from './lineage/version-created.handler';
import { CreateDataTables1796437705052 } from './migrations/1796437705052-create-data-tables';
import { CreateVersionTables1796440000000 } from './migrations/1796440000000-create-version-tables';
import { CreateBlobsTable1796460000000 } from './migrations/1796460000000-create-blobs-table';
import { CreateBlobUploadsTables1796460100000 } from './migrations/1796460100000-create-blob-uploads-tables';
import { CreateProjectBlobsTable1796461000000 } from './migrations/1796461000000-create-project-blobs-table';
import { CreateLineageTables1796470000000 } from './migrations/1796470000000-create-lineage-tables';
import { CreateBlobProfilesTable1796450000000 } from './migrations/1796450000000-create-blob-profiles-table';
import { BlobProfileEntity } from './profiles/profile.entity';
import { ProfileWorker } from './profiles/profile.worker';
import { VERSION_COMMITTED, VersionCommittedHandler } from './profiles/version-committed.handler';
import { DatasetVersionCommittedEventSchema } from '@trellis/proto/trellis/data/v1/events_pb';
import { ProfileService as ProfileServiceDesc } from '@trellis/proto/trellis/data/v1/profile_service_pb';

/** The data service: the datasets of each project, created, read, listed, changed and deleted over gRPC. */
export const dataService = defineService({
  name: 'data',
  description: 'Keeps the datasets of each project',
  defaultPort: 50055,
  config: dataConfig,
  module: DataModule,
  grpcServices: [DataServiceDesc, BlobServiceDesc, LineageServiceDesc, ProfileServiceDesc],
  subscriptions: [
    subscription({ subject: RUN_INPUTS_LOGGED, schema: RunInputsLoggedEventSchema, handler: RunInputsLoggedHandler }),
    subscription({ subject: VERSION_CREATED, schema: VersionCreatedEventSchema, handler: VersionCreatedHandler }),
    subscription({ subject: JOB_QUEUED, schema: JobEventSchema, handler: JobEventHandler, durable: 'data-lineage-job-queued' }),
    subscription({ subject: JOB_RUNNING, schema: JobEventSchema, handler: JobEventHandler, durable: 'data-lineage-job-running' }),
    subscription({ subject: VERSION_COMMITTED, schema: DatasetVersionCommittedEventSchema, handler: VersionCommittedHandler }),
  ],
  workers: [ProfileWorker, BlobGcWorker],
  plugins: {
    storage: { purpose: 'stores blobs, each once per instance under its sha256' },
  },
  entities: [DatasetEntity, VersionEntity, VersionFileEntity, VersionTagEntity, BlobEntity, ProjectBlobEntity, BlobUploadEntity, BlobUploadPartEntity, LineageNodeEntity, LineageEdgeEntity, BlobProfileEntity],
  migrations: [CreateDataTables1796437705052, CreateVersionTables1796440000000, CreateBlobProfilesTable1796450000000, CreateBlobsTable1796460000000, CreateBlobUploadsTables1796460100000, CreateProjectBlobsTable1796461000000, CreateLineageTables1796470000000],
});
