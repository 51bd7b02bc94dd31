import 'reflect-metadata';
import { runUntilSignalled } from '@trellis/platform';
import { SERVICES } from './services';

runUntilSignalled({ mode: 'standalone', services: SERVICES });
