import 'reflect-metadata';
import { monitoringService } from '@trellis/monitoring';
import { runUntilSignalled } from '@trellis/platform';
import driftStats from '@trellis/plugin-drift-stats';
import notifierWebhook from '@trellis/plugin-notifier-webhook';

runUntilSignalled({ mode: 'distributed', services: [monitoringService], plugins: [driftStats, notifierWebhook] });
