import { Injectable } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import { type Caller, excerpt, NotFoundError, ServiceClients, UnavailableError } from '@trellis/platform';
import { DataServiceDesc } from '@trellis/proto';
import type { StoredJobSpec } from './job-spec';

/**
 * A job's dataset inputs, resolved at submission by the data service with the submitter's own
 * token: each names the version it reads (`datasets:/<name>/<n>`), so a tag moved later changes
 * nothing for the job, and lineage links that version to the job's run.
 */
@Injectable()
export class DatasetInputs {
  constructor(private readonly clients: ServiceClients) {}

  /** The spec with each input's resolved reference; NOT_FOUND `DATASET_INPUT_NOT_FOUND` for one the caller cannot read. */
  async resolve(caller: Caller, projectId: string, spec: StoredJobSpec): Promise<StoredJobSpec> {
    if (spec.inputs.length === 0) return spec;
    const data = this.clients.of(DataServiceDesc, 'data');
    const inputs = await Promise.all(
      spec.inputs.map(async (input, index) => {
        try {
          const { version } = await data.resolveDatasetReference({ projectId, reference: input.reference }, { token: caller.token, requestId: caller.requestId });
          return { ...input, resolvedReference: version?.reference ?? input.reference };
        } catch (error) {
          const code = (error as { code?: number }).code;
          if (code !== status.NOT_FOUND && code !== status.PERMISSION_DENIED) {
            throw new UnavailableError(`the data service could not resolve spec.inputs[${index}] now: ${(error as Error).message}; submit again`);
          }
          throw new NotFoundError(`spec.inputs[${index}]: ${excerpt(input.reference)} names no dataset version of project ${projectId} you may read`, {
            reason: 'DATASET_INPUT_NOT_FOUND',
          });
        }
      }),
    );
    return { ...spec, inputs };
  }
}
