import { randomBytes } from 'node:crypto';
import { PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, describeKmsConformance } from '@trellis/plugin-sdk/testing';
import plugin from './index';

const masterKey = randomBytes(32).toString('base64');

describe('kms-aes-outside', () => {
  it('refuses a master key that is not 32 bytes, naming masterKey', async () => {
    const failure = createPluginInstance(plugin, { masterKey: randomBytes(16).toString('base64') });
    await expect(failure).rejects.toBeInstanceOf(PluginConfigError);
    await expect(failure).rejects.toThrow(/masterKey/);
  });

  it('unwraps with another instance of the same master key, and not with another master key', async () => {
    const wrapped = await (await createPluginInstance(plugin, { masterKey })).wrapKey('k', randomBytes(32), { object: 'a' });
    await expect((await createPluginInstance(plugin, { masterKey })).unwrapKey('k', wrapped, { object: 'a' })).resolves.toHaveLength(32);
    const other = await createPluginInstance(plugin, { masterKey: randomBytes(32).toString('base64') });
    await expect(other.unwrapKey('k', wrapped, { object: 'a' })).rejects.toMatchObject({ code: 'INVALID_WRAPPED_KEY' });
  });
});

describeKmsConformance('kms-aes-outside', () => createPluginInstance(plugin, { masterKey }));
