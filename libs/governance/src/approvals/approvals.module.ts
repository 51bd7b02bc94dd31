import { Module } from '@nestjs/common';
import { ApprovalGrpc } from './approval.grpc';
import { ApprovalRepository } from './approval.repository';
import { ApprovalDomainService } from './approval.service';

/** Four-eyes approvals: the `ApprovalService` gRPC handlers and what they need. */
@Module({ controllers: [ApprovalGrpc], providers: [ApprovalDomainService, ApprovalRepository] })
export class ApprovalsModule {}
