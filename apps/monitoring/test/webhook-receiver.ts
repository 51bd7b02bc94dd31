import { verifySignature, type WebhookAlertBody } from '@trellis/plugin-notifier-webhook';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An alert as notifier-webhook posts it (its README's body), with the delivery header it came with. */
export interface ReceivedAlert {
  delivery: string;
  body: WebhookAlertBody;
}

/** A running receiver: what it accepted (verified), what it refused (the reason), and how to stop it. */
export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/alerts`, the URL to give the notifier instance. */
  readonly url: string;
  /** Alerts whose signature verified, each delivery id once, in arrival order. */
  readonly accepted: ReceivedAlert[];
  /** Why each refused request was refused (verifySignature's message). */
  readonly refused: string[];
  close(): Promise<void>;
}

/**
 * A webhook receiver on a free local port, as notifier-webhook's README writes one: each POST's
 * signature is checked on the raw body with `verifySignature` under `secret` before it is parsed
 * (401 when it does not verify), and a delivery id seen before is acknowledged but not recorded again.
 */
export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const accepted: ReceivedAlert[] = [];
  const refused: string[] = [];
  const seen = new Set<string>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const check = verifySignature(secret, request.headers['trellis-signature'] as string | undefined, body);
      if (request.method !== 'POST' || !check.valid) {
        refused.push(check.valid ? `${request.method} is not POST` : check.message);
        return void response.writeHead(401).end(check.valid ? 'POST only' : check.message);
      }
      const delivery = request.headers['trellis-delivery'] as string;
      if (!seen.has(delivery)) {
        seen.add(delivery);
        accepted.push({ delivery, body: JSON.parse(body.toString('utf8')) as WebhookAlertBody });
      }
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`,
    accepted,
    refused,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
