import { create } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, InvalidArgumentError, Requires } from '@trellis/platform';
import {
  CreateAlertRuleResponseSchema,
  DeleteAlertRuleResponseSchema,
  ListAlertRulesResponseSchema,
  ListAlertsResponseSchema,
  type CreateAlertRuleRequest,
  type CreateAlertRuleResponse,
  type DeleteAlertRuleRequest,
  type DeleteAlertRuleResponse,
  type ListAlertRulesRequest,
  type ListAlertRulesResponse,
  type ListAlertsRequest,
  type ListAlertsResponse,
} from '@trellis/proto';
import { alertToProto, conditionFromProto, ruleToProto, severityFromProto, stateFromProto } from './alert.mapping';
import { ALERT_KIND, AlertRuleService, MAX_FOR_SECONDS } from './alert-rule.service';

/** Handlers of `trellis.monitoring.v1.AlertService`: they map proto to domain and back, and declare each method's permission. */
@Controller()
export class AlertGrpc {
  constructor(private readonly rules: AlertRuleService) {}

  @GrpcMethod('AlertService', 'CreateAlertRule')
  @Requires('create', ALERT_KIND)
  async createAlertRule(request: CreateAlertRuleRequest, metadata: Metadata): Promise<CreateAlertRuleResponse> {
    const rule = request.rule;
    if (!rule) throw new InvalidArgumentError('is required', 'rule');
    if (rule.forSeconds < 0n || rule.forSeconds > BigInt(MAX_FOR_SECONDS)) {
      throw new InvalidArgumentError(`is ${rule.forSeconds}; it must be 0 to ${MAX_FOR_SECONDS} (30 days)`, 'rule.for_seconds');
    }
    const created = await this.rules.create(callerOf(metadata), {
      monitorId: rule.monitorId,
      name: rule.name,
      condition: conditionFromProto(rule),
      forSeconds: Number(rule.forSeconds),
      severity: severityFromProto(rule.severity),
      notifiers: rule.notifiers,
    });
    return create(CreateAlertRuleResponseSchema, { rule: ruleToProto(created) });
  }

  @GrpcMethod('AlertService', 'ListAlertRules')
  @Requires('read', ALERT_KIND)
  async listAlertRules(request: ListAlertRulesRequest, metadata: Metadata): Promise<ListAlertRulesResponse> {
    return create(ListAlertRulesResponseSchema, { rules: (await this.rules.list(callerOf(metadata), request.monitorId)).map(ruleToProto) });
  }

  @GrpcMethod('AlertService', 'DeleteAlertRule')
  @Requires('delete', ALERT_KIND)
  async deleteAlertRule(request: DeleteAlertRuleRequest, metadata: Metadata): Promise<DeleteAlertRuleResponse> {
    await this.rules.delete(callerOf(metadata), request.ruleId);
    return create(DeleteAlertRuleResponseSchema);
  }

  @GrpcMethod('AlertService', 'ListAlerts')
  @Requires('read', ALERT_KIND)
  async listAlerts(request: ListAlertsRequest, metadata: Metadata): Promise<ListAlertsResponse> {
    const page = await this.rules.alerts(callerOf(metadata), {
      projectId: request.projectId,
      monitorId: request.monitorId,
      states: request.states.map(stateFromProto),
      pageSize: request.pageSize,
      pageToken: request.pageToken,
    });
    return create(ListAlertsResponseSchema, { alerts: page.alerts.map(alertToProto), nextPageToken: page.nextPageToken });
  }
}
