import { Module } from '@nestjs/common';
import { ExperimentGrpc } from './experiment.grpc';
import { ExperimentRepository } from './experiment.repository';
import { ExperimentService } from './experiment.service';
import { ExperimentSearch } from './experiment-search';

/** Experiments: their handlers, rules, search and tables. Runs find an experiment through ExperimentService. */
@Module({
  controllers: [ExperimentGrpc],
  providers: [ExperimentService, ExperimentRepository, ExperimentSearch],
  exports: [ExperimentService],
})
export class ExperimentsModule {}
