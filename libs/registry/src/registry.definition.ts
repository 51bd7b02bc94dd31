import { defineService } from '@trellis/platform';
import { RegistryServiceDesc } from '@trellis/proto';
import { AliasChangeEntity, AliasEntity, UsedApprovalEntity } from './aliases/alias.entity';
import { CreateRegistryTables1767600000000 } from './migrations/1767600000000-create-registry-tables';
import { AddVersionRunLink1767610000000 } from './migrations/1767610000000-add-version-run-link';
import { AddVersionArtifactKms1767620000000 } from './migrations/1767620000000-add-version-artifact-kms';
import { ModelTagEntity, RegisteredModelEntity } from './models/model.entity';
import { RegistryModule } from './registry.module';
import { ModelVersionEntity, VersionTagEntity } from './versions/version.entity';

/**
 * The model registry: models per project, numbered versions whose files it copies out of tracking
 * into its own store, aliases with an append-only history, protected aliases behind governance
 * approvals, and each version's lineage (its run and datasets).
 */
export const registryService = defineService({
  name: 'registry',
  description: 'Registered models, numbered versions with their lineage, aliases with their history, protected aliases behind approvals',
  defaultPort: 50054,
  module: RegistryModule,
  grpcServices: [RegistryServiceDesc],
  calls: ['tracking', 'governance'],
  identity: { purpose: "copies a run's files into a new version as its own service account, for as long as the copy takes" },
  plugins: {
    storage: { purpose: "keeps the copies of versions' files" },
    kms: { purpose: 'encrypts the copies of projects that ask for encryption at rest', optional: true },
  },
  entities: [RegisteredModelEntity, ModelTagEntity, ModelVersionEntity, VersionTagEntity, AliasEntity, AliasChangeEntity, UsedApprovalEntity],
  migrations: [CreateRegistryTables1767600000000, AddVersionRunLink1767610000000, AddVersionArtifactKms1767620000000],
});
