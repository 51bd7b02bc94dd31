import { GatewayRequestError } from '@trellis/client';
import type { GetExperimentByNameResponseJson, GetExperimentResponseJson } from '@trellis/proto/trellis/tracking/v1/experiment_service_pb';
import type { ExperimentJson } from '@trellis/proto/trellis/tracking/v1/resources_pb';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';

/**
 * An experiment of the project in use, by name, or by id when no experiment has that name (ids
 * are decimal digits, and a name may be digits too: the name wins).
 */
export async function resolveExperiment(ctx: CliContext, nameOrId: string): Promise<ExperimentJson> {
  const projectId = await ctx.projectId();
  const client = ctx.client();
  try {
    const { experiment } = await client.call<GetExperimentByNameResponseJson>('trellis.tracking.v1.ExperimentService/GetExperimentByName', { projectId, name: nameOrId });
    if (experiment) return experiment;
  } catch (error) {
    if (!(error instanceof GatewayRequestError && error.status === 'NOT_FOUND')) throw error;
  }
  if (/^\d+$/.test(nameOrId)) {
    try {
      const { experiment } = await client.call<GetExperimentResponseJson>('trellis.tracking.v1.ExperimentService/GetExperiment', { experimentId: nameOrId });
      if (experiment?.projectId === projectId) return experiment;
    } catch (error) {
      if (!(error instanceof GatewayRequestError && error.status === 'NOT_FOUND')) throw error;
    }
  }
  throw new CliError(`no experiment "${nameOrId.slice(0, 64)}" in the project: \`trellis experiments list\` shows its experiments`, EXIT.notFound);
}
