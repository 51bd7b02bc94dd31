import 'reflect-metadata';
import { servingService } from '@trellis/serving';
import { runUntilSignalled } from '@trellis/platform';

runUntilSignalled({ mode: 'distributed', services: [servingService] });
