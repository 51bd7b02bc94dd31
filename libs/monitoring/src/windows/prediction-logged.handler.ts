import { Injectable } from '@nestjs/common';
import type { BatchEventHandlerProvider, ReceivedEvent } from '@trellis/platform';
import type { PredictionLoggedEventSchema } from '@trellis/proto';
import type { EntityManager } from 'typeorm';
import { WindowService } from './window.service';

/** The subject serving logs sampled predictions on, in batches and without the outbox. */
export const PREDICTION_LOGGED = 'trellis.serving.v1.prediction.logged';

/** Events per ingest transaction, and how long a batch waits for more: one chunk per monitor per batch. */
export const PREDICTION_BATCH = { maxEvents: 512, lingerMs: 20 };

/** Feeds logged predictions, a batch at a time, into the windows of the monitors of their endpoints. */
@Injectable()
export class PredictionLoggedHandler implements BatchEventHandlerProvider<typeof PredictionLoggedEventSchema> {
  constructor(private readonly windows: WindowService) {}

  async handleBatch(events: ReadonlyArray<ReceivedEvent<typeof PredictionLoggedEventSchema>>, manager: EntityManager): Promise<void> {
    await this.windows.ingest(
      manager,
      events.map(({ message }) => message),
    );
  }
}
