import 'reflect-metadata';
import { computeService } from '@trellis/compute';
import { runUntilSignalled } from '@trellis/platform';
import computeKubernetes from '@trellis/plugin-compute-kubernetes';
import computeLocal from '@trellis/plugin-compute-local';
import computeRay from '@trellis/plugin-compute-ray';
import computeSlurm from '@trellis/plugin-compute-slurm';

runUntilSignalled({ mode: 'distributed', services: [computeService], plugins: [computeLocal, computeKubernetes, computeSlurm, computeRay] });
