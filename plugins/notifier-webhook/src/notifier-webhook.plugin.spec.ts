import { checkManifest, PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, describeNotifierConformance } from '@trellis/plugin-sdk/testing';
import packageJson from '../package.json';
import { startSignedReceiver } from '../test/signed-receiver';
import plugin from './index';

const secret = 'whsec-conformance-0123456789';
const valid = { url: 'https://hooks.example.com/trellis', secret };

describe('notifier-webhook', () => {
  it('declares a manifest the host loads, of the kind its package.json names', () => {
    expect(checkManifest(plugin.manifest)).toBeUndefined();
    expect(plugin.manifest).toMatchObject({ kind: 'notifier', id: 'notifier-webhook' });
    expect(packageJson.trellis.kind).toBe(plugin.manifest.kind);
  });

  it('defaults the timeout, the tries and the backoff', () => {
    expect(plugin.configSchema.parse(valid)).toEqual({
      ...valid,
      timeoutMs: 10_000,
      maxAttempts: 5,
      backoff: { initialMs: 500, maxMs: 30_000, multiplier: 2, jitter: 0.2 },
      headers: {},
    });
  });

  it.each([
    [{ ...valid, url: 'ftp://example.com/' }, /url must be an http/],
    [{ url: valid.url }, /secret/],
    [{ ...valid, secret: 'short' }, /secret must have at least 16 characters/],
    [{ ...valid, token: 'x' }, /token/],
    [{ ...valid, maxAttempts: 0 }, /maxAttempts is at least 1/],
    [{ ...valid, backoff: { initialMs: 5000, maxMs: 100 } }, /backoff.maxMs must be at least backoff.initialMs/],
    [{ ...valid, backoff: { jitter: 2 } }, /backoff.jitter is between 0 and 1/],
    [{ ...valid, headers: { 'Trellis-Signature': 'forged' } }, /headers may not set .*trellis-signature/],
    [{ ...valid, headers: { 'bad header': 'x' } }, /a header name is letters/],
  ])('refuses config %j, naming what is wrong', async (config, message) => {
    const refused = createPluginInstance(plugin, config);
    await expect(refused).rejects.toThrow(PluginConfigError);
    await expect(refused).rejects.toThrow(message);
  });
});

describeNotifierConformance('notifier-webhook', async () => {
  const receiver = await startSignedReceiver(secret);
  const notifier = await createPluginInstance(plugin, { url: receiver.url, secret, maxAttempts: 2, backoff: { initialMs: 1, maxMs: 1, jitter: 0 } });
  return { receiver, notifier };
});
