import { Module } from '@nestjs/common';
import { ProjectEncryption } from '@trellis/platform';
import { RunAccessModule } from '../runs/run-access.module';
import { ArtifactGrpc } from './artifact.grpc';
import { ArtifactService } from './artifact.service';
import { ArtifactStores } from './artifact-stores';
import { RunArtifactStores } from './run-artifact-stores';

/**
 * Artifacts: their handlers, files and each project's storage instance; new runs ask ArtifactStores
 * for theirs, and RunArtifactStores whether they are encrypted.
 */
@Module({
  imports: [RunAccessModule],
  controllers: [ArtifactGrpc],
  providers: [ArtifactService, ArtifactStores, RunArtifactStores, ProjectEncryption],
  exports: [ArtifactStores, RunArtifactStores],
})
export class ArtifactsModule {}
