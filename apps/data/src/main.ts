import 'reflect-metadata';
import { dataService } from '@trellis/data';
import { runUntilSignalled } from '@trellis/platform';

runUntilSignalled({ mode: 'distributed', services: [dataService] });
