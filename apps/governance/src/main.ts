import 'reflect-metadata';
import { governanceService } from '@trellis/governance';
import { runUntilSignalled } from '@trellis/platform';

runUntilSignalled({ mode: 'distributed', services: [governanceService] });
