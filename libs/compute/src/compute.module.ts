import { Module } from '@nestjs/common';
import { QueuesModule } from './queues/queues.module';

/** Wires the compute service's feature modules; nothing else. */
@Module({ imports: [QueuesModule] })
export class ComputeModule {}
