import { createLogger } from '@trellis/platform';
import { Gateway, type GatewayOptions } from '../src/gateway';
import { EchoService, startEchoServer } from './echo-service';

/** A gateway serving EchoService (upstream `echo`) and whatever `options` add, on a free port of 127.0.0.1. */
export interface EchoGateway {
  gateway: Gateway;
  /** The gateway's URL. */
  base: string;
  /** The echo server's `host:port`. */
  echoAddress: string;
  /** Stops the gateway, then the echo server. */
  close(): Promise<void>;
}

/** Starts an echo server and a gateway in front of it (1 KiB bodies, a silent logger unless `options` say otherwise). */
export async function startEchoGateway(options: Partial<GatewayOptions> = {}): Promise<EchoGateway> {
  const echo = await startEchoServer();
  const gateway = new Gateway({
    maxBodyBytes: 1024,
    logger: createLogger({ level: 'silent' }),
    ...options,
    upstreams: { echo: echo.address, ...options.upstreams },
    services: { echo: [EchoService], ...options.services },
  });
  const base = await gateway.listen('127.0.0.1', 0);
  return {
    gateway,
    base,
    echoAddress: echo.address,
    async close() {
      await gateway.close();
      await echo.stop();
    },
  };
}
