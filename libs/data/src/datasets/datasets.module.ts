import { Module } from '@nestjs/common';
import { DatasetGrpc } from './dataset.grpc';
import { DatasetRepository } from './dataset.repository';
import { DatasetService } from './dataset.service';

/** Datasets: the DataService handlers, the rules and the repository behind them. */
@Module({ controllers: [DatasetGrpc], providers: [DatasetService, DatasetRepository] })
export class DatasetsModule {}
