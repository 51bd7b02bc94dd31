import type { StandaloneProcess } from '../standalone-process';

/** The jest globalTeardown of standalone-global-setup.ts: stops the shared platform. */
export default async function standaloneGlobalTeardown(): Promise<void> {
  await (globalThis as { trellisSharedPlatform?: StandaloneProcess }).trellisSharedPlatform?.close();
}
