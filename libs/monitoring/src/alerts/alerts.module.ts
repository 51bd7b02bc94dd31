import { Module } from '@nestjs/common';
import { AlertDeliveryService } from './alert-delivery.service';
import { AlertDeliveryWorker } from './alert-delivery.worker';
import { AlertEvaluator } from './alert-evaluator';
import { AlertGrpc } from './alert.grpc';
import { AlertMetrics } from './alert-metrics';
import { AlertRepository } from './alert.repository';
import { AlertRuleService } from './alert-rule.service';
import { DeliverySignal } from './delivery-signal';
import { AlertsMonitorDeletedHandler } from './monitor-deleted.handler';

/** Alerts: rules, the alerts they raise over windows, and their delivery to notifiers. */
@Module({
  controllers: [AlertGrpc],
  providers: [AlertRepository, AlertEvaluator, AlertRuleService, AlertMetrics, DeliverySignal, AlertDeliveryService, AlertDeliveryWorker, AlertsMonitorDeletedHandler],
  exports: [AlertEvaluator, AlertDeliveryWorker, AlertsMonitorDeletedHandler],
})
export class AlertsModule {}
