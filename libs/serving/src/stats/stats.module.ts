import { Module } from '@nestjs/common';
import { EndpointRepository } from '../endpoints/endpoint.repository';
import { EndpointStatsGrpc } from './endpoint-stats.grpc';
import { EndpointStatsRecorder } from './endpoint-stats.recorder';
import { EndpointStatsRepository } from './endpoint-stats.repository';
import { EndpointStatsService } from './endpoint-stats.service';

/**
 * Endpoint statistics: the recorder the inference path counts each answered request in (per
 * revision, minute and latency bucket, written by every replica every few seconds) and
 * EndpointService.GetEndpointStats, which reads them back in buckets of the caller's width.
 */
@Module({
  controllers: [EndpointStatsGrpc],
  providers: [EndpointStatsRecorder, EndpointStatsRepository, EndpointStatsService, EndpointRepository],
  exports: [EndpointStatsRecorder],
})
export class StatsModule {}
