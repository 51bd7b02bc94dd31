import { Module } from '@nestjs/common';
import { DatasetsModule } from './datasets/datasets.module';

/** Wires the data service's feature modules; nothing else. */
@Module({ imports: [DatasetsModule] })
export class DataModule {}
