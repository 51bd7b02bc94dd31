import { Module } from '@nestjs/common';
import { AliasesModule } from './aliases/aliases.module';
import { ModelsModule } from './models/models.module';
import { VersionsModule } from './versions/versions.module';

/** Wires the registry's feature modules; nothing else. */
@Module({ imports: [ModelsModule, VersionsModule, AliasesModule] })
export class RegistryModule {}
