import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG, type Worker } from '@trellis/platform';
import type { ServingConfig } from '../serving.config';
import { RolloutService } from './rollout.service';
import { RolloutSignal } from './rollout.signal';

/**
 * The rollout loop (one replica decides): on each alias move recorded and every
 * `services.serving.rolloutIntervalMs`, it deploys the canaries of new moves and judges those
 * baking, on every replica's requests (`CanaryReports`).
 */
@Injectable()
export class RolloutWorker implements Worker {
  constructor(
    private readonly rollouts: RolloutService,
    private readonly signal: RolloutSignal,
    @Inject(SERVICE_CONFIG) private readonly config: ServingConfig,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.rollouts.advance();
      await this.signal.wait(this.config.rolloutIntervalMs, signal);
    }
  }
}
