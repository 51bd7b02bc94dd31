import { Module } from '@nestjs/common';
import { AliasGrpc } from './aliases/alias.grpc';
import { ApprovalCheck } from './aliases/alias-approval';
import { AliasService } from './aliases/alias.service';
import { ModelAccess } from './models/model-access';
import { ModelGrpc } from './models/model.grpc';
import { ModelSearch } from './models/model-search';
import { ModelService } from './models/model.service';
import { RegistryViews } from './registry-views';
import { RegistryStore } from './versions/registry-store';
import { VersionFiles } from './versions/version-files';
import { VersionGrpc } from './versions/version.grpc';
import { VersionSearch } from './versions/version-search';
import { VersionService } from './versions/version.service';

/** Wires the registry's handlers and services; nothing else. */
@Module({
  controllers: [ModelGrpc, VersionGrpc, AliasGrpc],
  providers: [ModelAccess, ModelService, ModelSearch, RegistryViews, RegistryStore, VersionFiles, VersionService, VersionSearch, AliasService, ApprovalCheck],
})
export class RegistryModule {}
