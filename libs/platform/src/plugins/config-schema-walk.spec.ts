import { secret, z } from '@trellis/plugin-sdk';
import { secretPaths } from './config-schema-walk';

describe('secretPaths', () => {
  const byMode = z.discriminatedUnion('mode', [
    z.object({ mode: z.literal('cli'), conf: z.string().optional() }).strict(),
    z.object({ mode: z.literal('rest'), url: z.string(), key: secret() }).strict(),
  ]);

  it("finds a secret in the option of a discriminated union that the config takes (compute-slurm's rest mode)", () => {
    expect(secretPaths(byMode, { mode: 'rest', url: 'http://slurm:6820', key: 'file:/etc/slurm/jwt.key' })).toEqual([['key']]);
    expect(secretPaths(z.object({ cluster: byMode.optional() }), { cluster: { mode: 'rest', url: 'u', key: 'env:KEY' } })).toEqual([['cluster', 'key']]);
  });

  it('finds none where the option taken has none', () => {
    expect(secretPaths(byMode, { mode: 'cli', conf: '/etc/slurm/slurm.conf' })).toEqual([]);
  });

  it('names a secret once when several options of a union mark it', () => {
    const either = z.union([z.object({ token: secret(), a: z.string() }), z.object({ token: secret(), b: z.string() })]);
    expect(secretPaths(either, { token: 'env:TOKEN', a: 'x' })).toEqual([['token']]);
  });
});
