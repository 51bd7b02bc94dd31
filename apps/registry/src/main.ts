import 'reflect-metadata';
import { runUntilSignalled } from '@trellis/platform';
import kmsLocal from '@trellis/plugin-kms-local';
import storageFs from '@trellis/plugin-storage-fs';
import { registryService } from '@trellis/registry';

runUntilSignalled({ mode: 'distributed', services: [registryService], plugins: [storageFs, kmsLocal] });
