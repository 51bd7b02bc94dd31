import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const CHECKOUT = resolve(__dirname, '../../..');

/** The workspace packages deploy/containers/service-context.mjs puts in `program`'s image, name -> folder. */
function workspaceOf(program: string): Record<string, string> {
  const script = `import('./deploy/containers/service-context.mjs').then((m) => console.log(JSON.stringify(Object.fromEntries(m.programFiles(${JSON.stringify(program)}).workspace))))`;
  const run = spawnSync(process.execPath, ['-e', script], { cwd: CHECKOUT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`service-context.mjs failed (${run.status}):\n${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, string>;
}

describe("what a program's image holds", () => {
  it("gives the gateway the web UI's built files, which it finds by package name, and no other program", () => {
    const gateway = workspaceOf('gateway');
    expect(Object.keys(gateway)).toContain('@trellis/web');
    expect(existsSync(join(gateway['@trellis/web'], 'dist', 'index.html'))).toBe(true);
    expect(Object.keys(workspaceOf('governance'))).not.toContain('@trellis/web');
  });
});
