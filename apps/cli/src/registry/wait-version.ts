import type { GatewayClient } from '@trellis/client';
import type { WaitVersionResponseJson } from '@trellis/proto/trellis/registry/v1/registry_service_pb';
import type { ModelVersionJson } from '@trellis/proto/trellis/registry/v1/resources_pb';

/**
 * Waits until a version is no longer PENDING (WaitVersion) and returns it. While it waits, a
 * terminal on stderr sees a line with the seconds spent; pipes and JSON output see nothing.
 */
export async function waitForVersion(client: GatewayClient, projectId: string, modelName: string, version: number, stderr: NodeJS.WriteStream = process.stderr): Promise<ModelVersionJson> {
  const started = Date.now();
  const show = () => stderr.write(`\rcopying the files of ${modelName} version ${version}… ${Math.round((Date.now() - started) / 1000)}s`);
  const ticker = stderr.isTTY ? setInterval(show, 1000) : undefined;
  if (ticker) show();
  try {
    const { version: settled = {} } = await client.call<WaitVersionResponseJson>('trellis.registry.v1.RegistryService/WaitVersion', { projectId, modelName, version });
    return settled;
  } finally {
    if (ticker) {
      clearInterval(ticker);
      stderr.write('\r\x1b[K');
    }
  }
}
