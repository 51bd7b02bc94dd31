import { file_trellis_serving_v1_events } from '@trellis/proto';
import { servingEvents } from './serving.events';

describe('the serving event catalog', () => {
  it('gives every message of serving/v1/events.proto a subject', () => {
    const published = new Set<string>(Object.values(servingEvents.table).map((schema) => schema.typeName));
    expect(file_trellis_serving_v1_events.messages.map((message) => message.typeName).filter((name) => !published.has(name))).toEqual([]);
  });
});
