import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './load-config';
import { sectionKeyOf, serviceVariable } from './service-section';

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'trellis-config-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (yaml: string) => {
    const file = join(dir, 'trellis.yaml');
    writeFileSync(file, yaml);
    return file;
  };

  it('gives standalone defaults when nothing is set', () => {
    const config = loadConfig({ file: write(''), env: {} });
    expect(config).toMatchObject({ mode: 'standalone', dataDir: './.trellis', opsPort: 9464, log: { level: 'info' } });
    expect(config.nats).toEqual({ url: 'nats://127.0.0.1:4222', stream: 'TRELLIS' });
  });

  it('overlays TRELLIS_* variables on the file, per service too', () => {
    const file = write('mode: distributed\nopsPort: 9000\nservices:\n  tracking:\n    port: 6000\n');
    const config = loadConfig({
      file,
      services: ['tracking'],
      env: { TRELLIS_OPS_PORT: '9100', TRELLIS_TRACKING_DATABASE_URL: 'postgres://db/tracking', TRELLIS_PLUGINS: 'a, b' },
    });
    expect(config.mode).toBe('distributed');
    expect(config.opsPort).toBe(9100);
    expect(config.services.tracking).toEqual({ port: 6000, databaseUrl: 'postgres://db/tracking' });
    expect(config.plugins).toEqual(['a', 'b']);
  });

  it('reads the gateway settings, with an upstream per service from TRELLIS_GATEWAY_UPSTREAM_<SERVICE>', () => {
    expect(loadConfig({ file: write(''), env: {} }).gateway).toEqual({ port: 8080, upstreams: {}, maxBodyBytes: 1_048_576, webRoot: '' });
    const config = loadConfig({
      file: write('gateway:\n  upstreams:\n    governance: gov:5000\n'),
      env: { TRELLIS_GATEWAY_PORT: '0', TRELLIS_GATEWAY_UPSTREAM_TRACKING: 'tracking.internal:5003', TRELLIS_GATEWAY_MAX_BODY_BYTES: '4096' },
    });
    expect(config.gateway).toEqual({ port: 0, upstreams: { governance: 'gov:5000', tracking: 'tracking.internal:5003' }, maxBodyBytes: 4096, webRoot: '' });
    expect(() => loadConfig({ file: write(''), env: { TRELLIS_GATEWAY_UPSTREAM_TRACKING: 'http://tracking' } })).toThrow(
      'gateway.upstreams.tracking (from TRELLIS_GATEWAY_UPSTREAM_TRACKING): must be host:port',
    );
  });

  it('keeps a kit variable when a service name would shadow it', () => {
    expect(loadConfig({ file: write(''), services: ['gateway'], env: { TRELLIS_GATEWAY_PORT: '9000' } }).gateway.port).toBe(9000);
  });

  it('fails naming the key, the variable it came from, and why', () => {
    expect(() => loadConfig({ file: write(''), env: { TRELLIS_OPS_PORT: '70000' } })).toThrow(
      'opsPort (from TRELLIS_OPS_PORT): must be a port number from 0 to 65535',
    );
    expect(() => loadConfig({ file: write('mode: clustered\n'), env: {} })).toThrow(/mode \(in .*trellis.yaml\): Invalid option/);
  });

  it('refuses unknown keys, so a typo does not pass silently', () => {
    expect(() => loadConfig({ file: write('opsport: 1\n'), env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ file: write('opsport: 1\n'), env: {} })).toThrow(/opsport/);
  });

  it('reads TRELLIS_<SERVICE>_<KEY> into the section of each service named, for its schema to check at start', () => {
    const config = loadConfig({ file: write(''), services: ['governance'], env: { TRELLIS_GOVERNANCE_CHECKPOINT_EVERY_SECONDS: '5', TRELLIS_TRACKING_SOMETHING: 'x' } });
    expect(config.services).toEqual({ governance: { checkpointEverySeconds: '5' } });
    expect(serviceVariable('governance', 'checkpointEverySeconds')).toBe('TRELLIS_GOVERNANCE_CHECKPOINT_EVERY_SECONDS');
    expect(sectionKeyOf('CHECKPOINT_EVERY_SECONDS')).toBe('checkpointEverySeconds');
  });

  it('fails on a setting that moved into a service section, naming where it is now', () => {
    expect(() => loadConfig({ file: write('audit:\n  checkpointEverySeconds: 30\n'), env: { TRELLIS_ADMIN_KEY: 'trellis_x' } })).toThrow(
      'invalid Trellis configuration:\n' +
        '  TRELLIS_ADMIN_KEY: moved to TRELLIS_GOVERNANCE_ADMIN_KEY (services.governance.adminKey)\n' +
        '  audit.checkpointEverySeconds (in the file): moved to services.governance.checkpointEverySeconds',
    );
  });

  it('says, of a moved setting whose value changed form, what it holds now', () => {
    expect(() => loadConfig({ file: write('audit:\n  checkpointKms: { plugin: kms-local }\n'), env: {} })).toThrow(
      '  audit.checkpointKms (in the file): moved to services.governance.checkpointKms, which names a kms instance: declare the instance itself ({ plugin, config }) as the section kms.audit-checkpoints',
    );
  });

  it('says when the file is not YAML or cannot be read', () => {
    expect(() => loadConfig({ file: write('a: [\n'), env: {} })).toThrow(/is not valid YAML/);
    expect(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} })).toThrow(/cannot read config file/);
  });
});
