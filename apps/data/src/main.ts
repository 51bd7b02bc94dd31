import 'reflect-metadata';
import { dataService } from '@trellis/data';
import { runUntilSignalled } from '@trellis/platform';
import storageFs from '@trellis/plugin-storage-fs';

runUntilSignalled({ mode: 'distributed', services: [dataService], plugins: [storageFs] });
