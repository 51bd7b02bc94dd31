import { Module } from '@nestjs/common';
import { ClustersModule } from '../clusters/clusters.module';
import { SignalsModule } from '../scheduling/signals.module';
import { GrantService } from './grant.service';
import { QueueDepthMetrics } from './queue-depth.metrics';
import { QueueGrpc } from './queue.grpc';
import { QueueRepository } from './queue.repository';
import { QueueService } from './queue.service';

/** Queues and grants: the QueueService handlers, the rules and the repository behind them, and the queues' depth on `/metrics`. */
@Module({ imports: [ClustersModule, SignalsModule], controllers: [QueueGrpc], providers: [QueueService, GrantService, QueueRepository, QueueDepthMetrics], exports: [QueueRepository] })
export class QueuesModule {}
