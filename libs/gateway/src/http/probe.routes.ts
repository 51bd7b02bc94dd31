import type { OpsServer } from '@trellis/platform';
import type { Router } from './router';

/**
 * `GET /healthz` and `GET /readyz` on the gateway's own port, answered as the process's ops
 * endpoints answer them, so a load balancer in front of the gateway needs no second port.
 */
export function probeRoutes(router: Router, ops: Pick<OpsServer, 'probe'>): void {
  for (const path of ['/healthz', '/readyz'] as const) {
    router.add('GET', path, async (ctx) => {
      const { status, type, body } = await ops.probe(path);
      ctx.res.writeHead(status, { 'content-type': type }).end(body);
    });
  }
}
