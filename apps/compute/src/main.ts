import 'reflect-metadata';
import { computeService } from '@trellis/compute';
import { runUntilSignalled } from '@trellis/platform';
import computeLocal from '@trellis/plugin-compute-local';

runUntilSignalled({ mode: 'distributed', services: [computeService], plugins: [computeLocal] });
