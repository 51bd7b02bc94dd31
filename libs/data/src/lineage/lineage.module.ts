import { Module } from '@nestjs/common';
import { JobEventHandler } from './job-event.handler';
import { LineageGrpc } from './lineage.grpc';
import { LineageRepository } from './lineage.repository';
import { LineageService } from './lineage.service';
import { RunInputsLoggedHandler } from './run-inputs-logged.handler';
import { VersionCreatedHandler } from './version-created.handler';

/** Lineage: the LineageService handlers, the event handlers that record edges, the rules and the repository. */
@Module({ controllers: [LineageGrpc], providers: [LineageService, LineageRepository, RunInputsLoggedHandler, VersionCreatedHandler, JobEventHandler] })
export class LineageModule {}
