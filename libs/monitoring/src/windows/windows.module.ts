import { Module } from '@nestjs/common';
import { AlertsModule } from '../alerts/alerts.module';
import { PerformanceModule } from '../performance/performance.module';

/** Windows: prediction-log ingest, count and time windows, their scoring and results. */
@Module({ imports: [PerformanceModule, AlertsModule], controllers: [], providers: [] })
export class WindowsModule {}
