import { file_trellis_monitoring_v1_events } from '@trellis/proto';
import { monitoringEvents } from './monitoring.events';

describe('the monitoring event catalog', () => {
  it('gives every message of monitoring/v1/events.proto a subject', () => {
    const published = new Set<string>(Object.values(monitoringEvents.table).map((schema) => schema.typeName));
    expect(file_trellis_monitoring_v1_events.messages.map((message) => message.typeName).filter((name) => !published.has(name))).toEqual([]);
  });
});
