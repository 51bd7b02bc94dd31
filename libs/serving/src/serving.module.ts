import { Module } from '@nestjs/common';
import { EndpointsModule } from './endpoints/endpoints.module';

/** Wires the serving service's feature modules; nothing else. */
@Module({ imports: [EndpointsModule] })
export class ServingModule {}
