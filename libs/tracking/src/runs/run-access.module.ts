import { Module } from '@nestjs/common';
import { RunAccess } from './run-access';
import { RunRepository } from './run.repository';

/**
 * Finding a run and checking the caller may act on it, for every feature that takes a `run_id`.
 * A module of its own, so that metrics and artifacts need not import the runs feature, which
 * imports them.
 */
@Module({
  providers: [RunRepository, RunAccess],
  exports: [RunRepository, RunAccess],
})
export class RunAccessModule {}
