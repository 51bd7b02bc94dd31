import { startStandaloneProcess, type StandaloneProcess } from '../standalone-process';

/**
 * A jest globalSetup: starts one standalone platform that every spec file of the project shares,
 * and tells the specs where it is (their workers inherit the environment): TRELLIS_TEST_GATEWAY,
 * TRELLIS_TEST_ADMIN_KEY. Specs keep out of each other's way by each seeding a project of its own.
 */
export default async function standaloneGlobalSetup(): Promise<void> {
  const platform = await startStandaloneProcess();
  (globalThis as { trellisSharedPlatform?: StandaloneProcess }).trellisSharedPlatform = platform;
  process.env.TRELLIS_TEST_GATEWAY = platform.gateway;
  process.env.TRELLIS_TEST_ADMIN_KEY = platform.adminKey;
}

/** Where the shared platform is, in a spec of a project whose jest config uses this setup. */
export function sharedPlatform(): { gateway: string; adminKey: string } {
  const gateway = process.env.TRELLIS_TEST_GATEWAY;
  const adminKey = process.env.TRELLIS_TEST_ADMIN_KEY;
  if (!gateway || !adminKey) throw new Error("no shared platform: run this spec with its project's jest config, whose globalSetup starts one");
  return { gateway, adminKey };
}
