import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** Lints `code` as if it were the file at `path` and returns the boundary rule's messages. */
function boundaryErrors(path: string, code: string): string[] {
  let output: string;
  try {
    output = execFileSync('npx', ['eslint', '--stdin', '--stdin-filename', path, '--format', 'json'], {
      cwd: root,
      input: code,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false' },
    });
  } catch (error) {
    output = (error as { stdout: string }).stdout;
  }
  const [result] = JSON.parse(output) as Array<{ messages: Array<{ ruleId: string; message: string }> }>;
  return result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

describe('module boundaries (ESLint)', () => {
  it('fails a plugin that imports anything of ours but @trellis/plugin-sdk', () => {
    expect(boundaryErrors('plugins/storage-fs/src/probe.ts', "import { Outbox } from '@trellis/platform';\nexport const x = Outbox;\n")).toEqual([
      'A project tagged with "type:plugin" can only depend on libs tagged with "scope:plugin-sdk"',
    ]);
    expect(boundaryErrors('plugins/storage-fs/src/probe.ts', "import { definePlugin } from '@trellis/plugin-sdk';\nexport const x = definePlugin;\n")).toEqual([]);
  });

  it('fails the plugin SDK importing the service kit, and libs/proto importing anything of ours', () => {
    expect(boundaryErrors('libs/plugin-sdk/src/probe.ts', "import { Outbox } from '@trellis/platform';\nexport const x = Outbox;\n")).toHaveLength(1);
    expect(boundaryErrors('libs/proto/src/probe.ts', "import { definePlugin } from '@trellis/plugin-sdk';\nexport const x = definePlugin;\n")).toHaveLength(1);
  });
});
