import { Module } from '@nestjs/common';
import { ApprovalGrpc } from './approval.grpc';
import { ApprovalRepository } from './approval.repository';
import { ApprovalService } from './approval.service';

/** Four-eyes approvals: the ApprovalService gRPC handlers, the rules and the repository behind them. */
@Module({ controllers: [ApprovalGrpc], providers: [ApprovalService, ApprovalRepository] })
export class ApprovalsModule {}
