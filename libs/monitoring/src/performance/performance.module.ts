import { Module } from '@nestjs/common';
import { AlertsModule } from '../alerts/alerts.module';

/** Performance: labels posted by request id, joined to logged predictions, metrics per window. */
@Module({ imports: [AlertsModule], controllers: [], providers: [], exports: [] })
export class PerformanceModule {}
