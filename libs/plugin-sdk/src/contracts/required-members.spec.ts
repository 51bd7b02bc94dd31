import { MemoryComputeBackend, MemoryDriftDetector, MemoryKeyManager, MemoryModelRuntime, MemoryNotifier, MemoryObjectStore } from '../testing';
import { PLUGIN_KINDS, type PluginKind } from '../kinds';
import { type PluginInstanceByKind, REQUIRED_MEMBERS } from './index';

// The in-memory implementations fulfil their contracts (each passes its conformance suite), so a
// member REQUIRED_MEMBERS lists that one of them lacks is a member the contract does not require.
const references: { [K in PluginKind]: PluginInstanceByKind[K] } = {
  storage: new MemoryObjectStore(),
  compute: new MemoryComputeBackend(),
  drift: new MemoryDriftDetector('psi'),
  runtime: new MemoryModelRuntime(),
  kms: new MemoryKeyManager(),
  notifier: new MemoryNotifier(),
};

describe('REQUIRED_MEMBERS', () => {
  it.each(PLUGIN_KINDS)('lists only members the reference %s implementation has', (kind) => {
    expect(REQUIRED_MEMBERS[kind].filter((member) => !(member in references[kind]))).toEqual([]);
  });

  it('leaves out the optional members (copy, move, presign, rewrapKey, mac, verifyMac, close, health)', () => {
    const listed = Object.values(REQUIRED_MEMBERS).flat() as string[];
    for (const optional of ['copy', 'move', 'presign', 'rewrapKey', 'mac', 'verifyMac', 'close', 'health']) expect(listed).not.toContain(optional);
  });
});
