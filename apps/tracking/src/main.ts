import 'reflect-metadata';
import { runUntilSignalled } from '@trellis/platform';
import kmsLocal from '@trellis/plugin-kms-local';
import storageFs from '@trellis/plugin-storage-fs';
import { trackingService } from '@trellis/tracking';

runUntilSignalled({ mode: 'distributed', services: [trackingService], plugins: [storageFs, kmsLocal] });
