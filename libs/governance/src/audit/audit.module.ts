import { Module } from '@nestjs/common';
import { AuditChain } from './audit-chain';
import { AuditIngest } from './audit-ingest';
import { AuditGrpc } from './audit.grpc';

/**
 * Governance's audit log: the AuditService handlers, the ingest of every service's audit events,
 * and {@link AuditChain}, exported so governance's other modules can audit their own changes.
 */
@Module({ controllers: [AuditGrpc], providers: [AuditChain, AuditIngest], exports: [AuditChain] })
export class AuditModule {}
