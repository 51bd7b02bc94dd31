import 'reflect-metadata';
import { computeService } from '@trellis/compute';
import { runUntilSignalled } from '@trellis/platform';

runUntilSignalled({ mode: 'distributed', services: [computeService] });
