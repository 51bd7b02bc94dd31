import { Module } from '@nestjs/common';

/** Alerts: rules, the alerts they raise over windows, and their delivery to notifiers. */
@Module({ controllers: [], providers: [], exports: [] })
export class AlertsModule {}
