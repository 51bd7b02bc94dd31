import { Injectable } from '@nestjs/common';
import { Wakeup } from './wakeup';

/** Wakes the admission loop: a job was submitted or ended, a grant or queue changed. */
@Injectable()
export class AdmissionSignal extends Wakeup {}

/** Wakes the supervisor: a job was admitted, cancelled or preempted. */
@Injectable()
export class DispatchSignal extends Wakeup {}
