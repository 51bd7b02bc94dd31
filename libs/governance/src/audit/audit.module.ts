import { Module } from '@nestjs/common';
import { AuditChain } from './audit-chain';
import { AuditCheckpointer } from './audit-checkpointer';
import { AuditIngest } from './audit-ingest';
import { AuditGrpc } from './audit.grpc';
import { AuditService } from './audit.service';
import { CheckpointKeySource } from './checkpoint-key';

/**
 * Governance's audit log: the AuditService handlers, the ingest of every service's audit events,
 * the checkpoints that sign the chain's head, and {@link AuditChain}, exported so governance's
 * other modules can audit their own changes.
 */
@Module({ controllers: [AuditGrpc], providers: [AuditService, AuditChain, AuditIngest, CheckpointKeySource, AuditCheckpointer], exports: [AuditChain] })
export class AuditModule {}
