import { Module } from '@nestjs/common';
import { ClusterGrpc } from './cluster.grpc';
import { ClusterService } from './cluster.service';

/** Clusters: the ClusterService handlers and the capacity cache the admission loop reads. */
@Module({ controllers: [ClusterGrpc], providers: [ClusterService], exports: [ClusterService] })
export class ClustersModule {}
