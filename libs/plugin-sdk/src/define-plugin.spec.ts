import { z } from 'zod';
import { definePlugin, isPlugin } from './define-plugin';
import { SUPPORTED_API_VERSIONS } from './kinds';

const notifier = () => ({ deliver: async () => undefined });

describe('definePlugin', () => {
  it('returns a plain, frozen object with the manifest, schema and factory', () => {
    const configSchema = z.object({ url: z.string() });
    const plugin = definePlugin({ manifest: { kind: 'notifier', id: 'notifier-webhook', apiVersion: 'v1' }, configSchema, create: notifier });
    expect(plugin).toEqual({ manifest: { kind: 'notifier', id: 'notifier-webhook', apiVersion: 'v1' }, configSchema, create: notifier });
    expect(Object.getPrototypeOf(plugin)).toBe(Object.prototype);
    expect(Object.isFrozen(plugin) && Object.isFrozen(plugin.manifest)).toBe(true);
    expect(isPlugin(plugin)).toBe(true);
  });

  it.each(['Storage-FS', 'storage_fs', 'storage--fs', '-storage', '1storage', '', 'a'.repeat(65)])('refuses the id %j, saying what an id looks like', (id) => {
    expect(() => definePlugin({ manifest: { kind: 'notifier', id, apiVersion: 'v1' }, configSchema: z.object({}), create: notifier })).toThrow(
      /an id is lowercase letters, digits and single dashes, starting with a letter, at most 64 characters \(like "storage-fs"\)/,
    );
  });

  it('refuses a kind it does not know, listing the kinds', () => {
    const manifest = { kind: 'queue', id: 'queue-memory', apiVersion: 'v1' } as never;
    expect(() => definePlugin({ manifest, configSchema: z.object({}), create: notifier })).toThrow(
      'definePlugin: its manifest has kind "queue", which is not a plugin kind; the kinds are storage, compute, drift, runtime, kms, notifier',
    );
  });

  it('refuses an apiVersion the SDK does not support for the kind', () => {
    const manifest = { kind: 'storage', id: 'storage-next', apiVersion: 'v2' } as never;
    expect(() => definePlugin({ manifest, configSchema: z.object({}), create: notifier })).toThrow('supported: v1');
  });

  it('refuses a plugin without a config schema or a create function', () => {
    const manifest = { kind: 'notifier', id: 'notifier-x', apiVersion: 'v1' } as const;
    expect(() => definePlugin({ manifest, configSchema: undefined as never, create: notifier })).toThrow('has no configSchema');
    expect(() => definePlugin({ manifest, configSchema: z.object({}), create: undefined as never })).toThrow('has no create(ctx, config) function');
  });

  it('types create() and apiVersion by kind (checked by tsc)', () => {
    const storage = definePlugin({
      manifest: { kind: 'storage', id: 'storage-wrong', apiVersion: 'v1' },
      configSchema: z.object({ root: z.string() }),
      // @ts-expect-error -- a storage plugin's create() must return an ObjectStore, not a Notifier
      create: () => notifier(),
    });
    // Only the compiler refuses a create() of the wrong contract; run time checks it when an instance is made.
    expect(storage.manifest.kind).toBe('storage');
    expect(() =>
      definePlugin({
        // @ts-expect-error -- v2 of the storage contract does not exist in this SDK
        manifest: { kind: 'storage', id: 'storage-next', apiVersion: 'v2' },
        configSchema: z.object({}),
        create: () => notifier() as never,
      }),
    ).toThrow('supported: v1');
  });

  it('supports v1 of every kind', () => {
    expect(SUPPORTED_API_VERSIONS).toEqual({ storage: ['v1'], compute: ['v1'], drift: ['v1'], runtime: ['v1'], kms: ['v1'], notifier: ['v1'] });
  });
});

describe('isPlugin', () => {
  it.each([
    ['null', null],
    ['a string', 'storage-fs'],
    ['an object without create', { manifest: { kind: 'storage' }, configSchema: z.object({}) }],
    ['an object without a schema', { manifest: { kind: 'storage' }, create: () => ({}) }],
    ['a schema that is not one', { manifest: { kind: 'storage' }, configSchema: { parse: () => ({}) }, create: () => ({}) }],
  ])('is false for %s', (_, value) => {
    expect(isPlugin(value)).toBe(false);
  });
});
