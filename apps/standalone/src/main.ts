import 'reflect-metadata';
import { runUntilSignalled } from '@trellis/platform';
import { BUILT_IN_PLUGINS, EDGES, SERVICES } from './services';

runUntilSignalled({ mode: 'standalone', services: SERVICES, edges: EDGES, plugins: BUILT_IN_PLUGINS });
