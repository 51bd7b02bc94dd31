import { Module } from '@nestjs/common';
import { VersionFilesModule } from '../version-files/version-files.module';
import { ModelAccess } from './model-access';
import { ModelGrpc } from './model.grpc';
import { ModelRepository } from './model.repository';
import { ModelService } from './model.service';

/** Registered models: their handlers, and the access check that versions and aliases share. */
@Module({
  imports: [VersionFilesModule],
  controllers: [ModelGrpc],
  providers: [ModelRepository, ModelAccess, ModelService],
  exports: [ModelRepository, ModelAccess],
})
export class ModelsModule {}
