import { Injectable } from '@nestjs/common';
import { WorkerSignal } from '@trellis/platform';

/** Wakes the rollout worker once an alias move or a drift finding is committed. */
@Injectable()
export class RolloutSignal extends WorkerSignal {}
