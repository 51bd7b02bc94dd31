import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkManifest, PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, describeNotifierConformance, type NotifierReceiver, type ReceivedAlert } from '@trellis/plugin-sdk/testing';
import packageJson from '../package.json';
import plugin from './index';

/** An HTTP server that keeps what is posted to it, or answers 500 while it refuses. */
async function startReceiver(): Promise<NotifierReceiver & { url: string; headers: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const alerts: ReceivedAlert[] = [];
  const headers: IncomingHttpHeaders[] = [];
  let refusing: string | undefined;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (refusing !== undefined) return void response.writeHead(500).end(refusing);
      alerts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedAlert);
      headers.push(request.headers);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/trellis`,
    headers,
    received: () => [...alerts],
    refuse: (reason) => void (refusing = reason),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('notifier-webhook', () => {
  it('declares a manifest the host loads, of the kind its package.json names', () => {
    expect(checkManifest(plugin.manifest)).toBeUndefined();
    expect(plugin.manifest).toMatchObject({ kind: 'notifier', id: 'notifier-webhook' });
    expect(packageJson.trellis.kind).toBe(plugin.manifest.kind);
  });

  it('refuses a URL that is not http(s) and an unknown key, naming them', async () => {
    await expect(createPluginInstance(plugin, { url: 'ftp://example.com/' })).rejects.toThrow(PluginConfigError);
    await expect(createPluginInstance(plugin, { url: 'ftp://example.com/' })).rejects.toThrow(/url must be an http/);
    await expect(createPluginInstance(plugin, { url: 'https://example.com/', secret: 'x' })).rejects.toThrow(/secret/);
  });

  it('sends the token as a bearer and the alert id as the idempotency key, and names only the host when refused', async () => {
    const receiver = await startReceiver();
    const notifier = await createPluginInstance(plugin, { url: receiver.url, token: 't0ken' });
    const alert = { id: 'a-1', status: 'firing', severity: 'info', title: 'hello', source: 'spec', labels: {}, at: new Date() } as const;
    await notifier.deliver(alert);
    expect(receiver.headers[0]).toMatchObject({ authorization: 'Bearer t0ken', 'idempotency-key': 'a-1', 'content-type': 'application/json' });
    receiver.refuse('down');
    const refused = notifier.deliver(alert);
    await expect(refused).rejects.toThrow(`the webhook at ${new URL(receiver.url).host} answered 500 to alert a-1: down`);
    await expect(refused).rejects.not.toThrow('/hooks/trellis');
    await receiver.close();
  });
});

describeNotifierConformance('notifier-webhook', async () => {
  const receiver = await startReceiver();
  return { receiver, notifier: await createPluginInstance(plugin, { url: receiver.url }) };
});
