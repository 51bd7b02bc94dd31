import { Injectable } from '@nestjs/common';
import type { BatchEventHandlerProvider, ReceivedEvent } from '@trellis/platform';
import type { PredictionsLoggedEventSchema } from '@trellis/proto';
import type { EntityManager } from 'typeorm';
import { WindowService } from './window.service';

/** The subject serving logs sampled predictions on, packed many to an event, in batches and without the outbox. */
export const PREDICTIONS_LOGGED = 'trellis.serving.v1.predictions.logged';

/**
 * Events (packs, up to serving's predictionLogPackSize predictions each) per ingest transaction,
 * and how long a batch waits for more: one chunk per monitor per batch.
 */
export const PREDICTION_BATCH = { maxEvents: 64, lingerMs: 20 };

/** Feeds packs of logged predictions, a batch of packs at a time, into the windows of the monitors of their endpoints. */
@Injectable()
export class PredictionLoggedHandler implements BatchEventHandlerProvider<typeof PredictionsLoggedEventSchema> {
  constructor(private readonly windows: WindowService) {}

  async handleBatch(events: ReadonlyArray<ReceivedEvent<typeof PredictionsLoggedEventSchema>>, manager: EntityManager): Promise<void> {
    await this.windows.ingest(
      manager,
      events.flatMap(({ message }) => message.predictions),
    );
  }
}
