import { file_trellis_compute_v1_events } from '@trellis/proto';
import { computeEvents } from './compute.events';

describe('the compute event catalog', () => {
  it('gives every message of compute/v1/events.proto a subject', () => {
    const published = new Set<string>(Object.values(computeEvents.table).map((schema) => schema.typeName));
    expect(file_trellis_compute_v1_events.messages.map((message) => message.typeName).filter((name) => !published.has(name))).toEqual([]);
  });
});
