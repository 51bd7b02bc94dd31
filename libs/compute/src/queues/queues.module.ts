import { Module } from '@nestjs/common';
import { QueueGrpc } from './queue.grpc';
import { QueueRepository } from './queue.repository';
import { QueueService } from './queue.service';

/** Queues: the ComputeService handlers, the rules and the repository behind them. */
@Module({ controllers: [QueueGrpc], providers: [QueueService, QueueRepository] })
export class QueuesModule {}
