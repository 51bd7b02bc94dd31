import { Module } from '@nestjs/common';
import { RunAccessModule } from '../runs/run-access.module';
import { ArtifactGrpc } from './artifact.grpc';
import { ArtifactRepository } from './artifact.repository';
import { ArtifactService } from './artifact.service';
import { ArtifactStores } from './artifact-stores';

/** Artifacts: their handlers, files and each project's storage instance; new runs ask ArtifactStores for theirs. */
@Module({
  imports: [RunAccessModule],
  controllers: [ArtifactGrpc],
  providers: [ArtifactService, ArtifactStores, ArtifactRepository],
  exports: [ArtifactStores],
})
export class ArtifactsModule {}
