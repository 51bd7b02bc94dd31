import { Module } from '@nestjs/common';
import { AdmissionSignal, DispatchSignal } from './admission-signal';

/** The in-process wake-ups of the admission loop and the supervisor, one of each per service. */
@Module({ providers: [AdmissionSignal, DispatchSignal], exports: [AdmissionSignal, DispatchSignal] })
export class SignalsModule {}
