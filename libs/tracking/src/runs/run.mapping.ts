import { create } from '@bufbuild/protobuf';
import { RunSchema, type Run } from '@trellis/proto';
import { toMetricProto } from '../metrics/metric.mapping';
import { runInfoToProto } from './run-info.mapping';
import type { RunView } from './run.service';

/** A run with everything it logged as the proto `Run`. */
export function runToProto(view: RunView): Run {
  return create(RunSchema, {
    info: runInfoToProto(view.run),
    data: { metrics: view.metrics.map(toMetricProto), params: view.params, tags: view.tags },
    inputs: {
      datasetInputs: view.inputs.map((input) => ({
        tags: input.tags,
        dataset: {
          name: input.name,
          digest: input.digest,
          sourceType: input.sourceType,
          source: input.source,
          schema: input.schema,
          profile: input.profile,
        },
      })),
    },
  });
}
