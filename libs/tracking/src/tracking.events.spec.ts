import { file_trellis_tracking_v1_events } from '@trellis/proto';
import { trackingEvents } from './tracking.events';

describe('the tracking event catalog', () => {
  it('gives every message of tracking/v1/events.proto a subject', () => {
    const published = new Set<string>(Object.values(trackingEvents.table).map((schema) => schema.typeName));
    expect(file_trellis_tracking_v1_events.messages.map((message) => message.typeName).filter((name) => !published.has(name))).toEqual([]);
  });
});
