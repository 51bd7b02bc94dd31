import { Injectable } from '@nestjs/common';
import { WorkerSignal } from '@trellis/platform';

/** Wakes the alert delivery worker of this replica once a transaction that wrote deliveries commits. */
@Injectable()
export class DeliverySignal extends WorkerSignal {}
