import { file_trellis_data_v1_events } from '@trellis/proto';
import { dataEvents } from './data.events';

describe('the data event catalog', () => {
  it('gives every message of data/v1/events.proto a subject', () => {
    const published = new Set<string>(Object.values(dataEvents.table).map((schema) => schema.typeName));
    expect(file_trellis_data_v1_events.messages.map((message) => message.typeName).filter((name) => !published.has(name))).toEqual([]);
  });
});
