import { gatewayEdge } from '@trellis/gateway';
import { runUntilSignalled } from '@trellis/platform';

runUntilSignalled({ mode: 'distributed', services: [], edges: [gatewayEdge] });
