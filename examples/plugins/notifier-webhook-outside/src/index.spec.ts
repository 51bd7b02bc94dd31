import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, describeNotifierConformance, type NotifierReceiver, type ReceivedAlert } from '@trellis/plugin-sdk/testing';
import plugin from './index';

/** An HTTP server that records the alerts posted to it, or answers 500 while refusing. */
async function startReceiver(): Promise<NotifierReceiver & { url: string }> {
  const received: ReceivedAlert[] = [];
  let refusing: string | undefined;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (refusing !== undefined) {
        response.writeHead(500).end(refusing);
        return;
      }
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedAlert);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    received: () => received,
    refuse: (reason) => {
      refusing = reason;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('notifier-webhook-outside', () => {
  it('refuses a config without a URL, naming url', async () => {
    const failure = createPluginInstance(plugin, {});
    await expect(failure).rejects.toBeInstanceOf(PluginConfigError);
    await expect(failure).rejects.toThrow(/url/);
  });

  it("says what the receiver answered when it refuses", async () => {
    const receiver = await startReceiver();
    try {
      await receiver.refuse('down');
      const notifier = await createPluginInstance(plugin, { url: receiver.url });
      await expect(notifier.deliver({ id: 'a1', status: 'firing', severity: 'info', title: 't', source: 's', labels: {}, at: new Date() })).rejects.toThrow(
        /answered 500 Internal Server Error/,
      );
    } finally {
      await receiver.close?.();
    }
  });
});

describeNotifierConformance('notifier-webhook-outside', async () => {
  const receiver = await startReceiver();
  return { receiver, notifier: await createPluginInstance(plugin, { url: receiver.url }) };
});
