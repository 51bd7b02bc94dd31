import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');

/** Every .proto under `dir`, relative to it. */
function protoFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return protoFiles(path).map((file) => join(name, file));
    return name.endsWith('.proto') ? [name] : [];
  });
}

/**
 * protoc 3.5 (Debian's python3-grpc-tools, which tools/services/ensure-services.sh installs) is
 * the oldest compiler the contracts support: it has no proto3 `optional`, among other things a
 * newer buf accepts without a word.
 */
describe('the contracts compile with protoc 3.5', () => {
  it('compiles every file of proto/ with the vendored imports', () => {
    const out = mkdtempSync(join(tmpdir(), 'trellis-protoc-'));
    try {
      const version = execFileSync('/usr/bin/python3', ['-m', 'grpc_tools.protoc', '--version'], { encoding: 'utf8' }).trim();
      expect(version).toBe('libprotoc 3.5.1');
      const files = protoFiles(join(root, 'proto'));
      expect(files).toContain(join('trellis', 'tracking', 'v1', 'run_service.proto'));
      const compile = () =>
        execFileSync('/usr/bin/python3', ['-m', 'grpc_tools.protoc', '-I', 'proto', '-I', relative(root, join(root, 'libs/proto/vendor')), `--python_out=${out}`, ...files], {
          cwd: root,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      expect(compile).not.toThrow();
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
