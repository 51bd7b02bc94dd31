import { Module } from '@nestjs/common';
import { defineService } from '../../src';
import { WidgetService } from '../gen/trellis/kittest/v1/widget_service_pb';
import { CreateWidgets1764403200000 } from './create-widgets.migration';
import { WidgetEntity } from './widget.entity';
import { WidgetGrpc } from './widget.grpc';

@Module({ controllers: [WidgetGrpc] })
class WidgetModule {}

/** The kit's test-only service, registered like any real one. */
export const widgetService = defineService({
  name: 'widgets',
  defaultPort: 0,
  module: WidgetModule,
  grpcServices: [WidgetService],
  entities: [WidgetEntity],
  migrations: [CreateWidgets1764403200000],
});
