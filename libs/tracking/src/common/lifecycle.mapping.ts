import { InvalidArgumentError } from '@trellis/platform';
import { LifecycleStage, ViewType } from '@trellis/proto';
import type { LifecycleStageName } from '../experiments/experiment.entity';

/** The stored stage as the proto enum. */
export function lifecycleStageToProto(stage: LifecycleStageName): LifecycleStage {
  return stage === 'deleted' ? LifecycleStage.DELETED : LifecycleStage.ACTIVE;
}

/** A search's view type; unspecified means active only, as in MLflow. */
export function viewTypeFromProto(viewType: ViewType): 'active' | 'deleted' | 'all' {
  switch (viewType) {
    case ViewType.UNSPECIFIED:
    case ViewType.ACTIVE_ONLY:
      return 'active';
    case ViewType.DELETED_ONLY:
      return 'deleted';
    case ViewType.ALL:
      return 'all';
    default:
      throw new InvalidArgumentError(`unknown view type ${viewType as number}`, 'view_type');
  }
}
