import { seedProject, sharedPlatform } from '@trellis/testing';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from './exit-codes';
import { jsonOf, newConfigDir, runCli } from '../test/run-cli';

describe('trellis login, profiles and projects', () => {
  it('saves a checked API key in a 0600 file, then runs commands with it and no flags', async () => {
    const configDir = newConfigDir();
    const { name } = await seedProject('cli-login');
    const login = await runCli(['login', '--profile', 'local'], { configDir });
    expect(login).toMatchObject({ code: 0, stderr: '' });
    expect(login.stdout).toContain('profile "local"');
    const file = join(configDir, 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ current: 'local', profiles: { local: { url: sharedPlatform().gateway, apiKey: sharedPlatform().adminKey } } });

    // No TRELLIS_URL or key now: the profile has them.
    const listed = await runCli(['projects', 'list', '-o', 'json'], { configDir, apiKey: null, env: { TRELLIS_URL: '' } });
    expect(jsonOf<Array<{ name: string }>>(listed).map((project) => project.name)).toContain(name);
    const table = await runCli(['projects', 'list'], { configDir, apiKey: null, env: { TRELLIS_URL: '' } });
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+ID\s+DESCRIPTION\s+CREATED$/);
  });

  it('refuses a wrong key with exit code 3 and says how to sign in, saving nothing', async () => {
    const configDir = newConfigDir();
    const result = await runCli(['login'], { configDir, apiKey: `trellis_0000000000000bad_${'B'.repeat(43)}` });
    expect(result.code).toBe(EXIT.unauthenticated);
    expect(result.stderr).toMatch(/refused this API key/);
    expect(() => statSync(join(configDir, 'config.json'))).toThrow();
  });

  it('says what to do when not signed in, and exits 2 on a usage error', async () => {
    const notSignedIn = await runCli(['projects', 'list'], { apiKey: null });
    expect(notSignedIn.code).toBe(EXIT.unauthenticated);
    expect(notSignedIn.stderr).toContain('trellis login');
    const unknown = await runCli(['projects', 'lst']);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toMatch(/Did you mean list\?/);
  });

  it('prints a bash completion script that completes commands', async () => {
    const result = await runCli(['completion', 'bash']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('complete -o default -F _trellis_complete trellis');
    expect(result.stdout).toMatch(/"projects"\) words="list create show use/);
  });
});
