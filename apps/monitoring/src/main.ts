import 'reflect-metadata';
import { monitoringService } from '@trellis/monitoring';
import { runUntilSignalled } from '@trellis/platform';

runUntilSignalled({ mode: 'distributed', services: [monitoringService] });
