import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { ExperimentSchema, type Experiment } from '@trellis/proto';
import { lifecycleStageToProto } from '../common/lifecycle.mapping';
import type { ExperimentEntity } from './experiment.entity';

/** A stored experiment with its tags as the proto `Experiment`; its id as a decimal string, as MLflow's. */
export function experimentToProto(experiment: ExperimentEntity): Experiment {
  return create(ExperimentSchema, {
    id: String(experiment.id),
    projectId: experiment.projectId,
    name: experiment.name,
    artifactLocation: experiment.artifactLocation,
    lifecycleStage: lifecycleStageToProto(experiment.lifecycleStage),
    createTime: timestampFromMs(experiment.createdAt),
    updateTime: timestampFromMs(experiment.updatedAt),
    tags: (experiment.tags ?? []).map(({ key, value }) => ({ key, value })),
  });
}
