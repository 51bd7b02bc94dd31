import { Module } from '@nestjs/common';
import { AliasModule } from './aliases/alias.module';
import { ModelModule } from './models/model.module';
import { VersionModule } from './versions/version.module';

/** Wires the registry's feature modules; nothing else. */
@Module({ imports: [ModelModule, VersionModule, AliasModule] })
export class RegistryModule {}
