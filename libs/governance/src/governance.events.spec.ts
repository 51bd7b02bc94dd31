import { file_trellis_governance_v1_events } from '@trellis/proto';
import { governanceEvents } from './governance.events';

describe('the governance event catalog', () => {
  it('gives every message of governance/v1/events.proto a subject', () => {
    const published = new Set<string>(Object.values(governanceEvents.table).map((schema) => schema.typeName));
    expect(file_trellis_governance_v1_events.messages.map((message) => message.typeName).filter((name) => !published.has(name))).toEqual([]);
  });
});
