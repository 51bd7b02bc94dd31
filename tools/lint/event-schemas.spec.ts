import { EVENTS_BASELINE, currentEventTypes, eventBreaks, eventTypesOf, readBaseline, type EventTypes } from '../api/release-baselines';

// A consumer of the previous release keeps working while the publisher is upgraded only if every
// subject it subscribes to is still published with the message type it decodes (buf breaking
// guards the messages' fields). docs/operations.md, "Releases".

describe('event schemas against the last release (tools/api/events-baseline.json)', () => {
  let released: EventTypes, current: EventTypes;
  beforeAll(async () => {
    released = readBaseline<EventTypes>(EVENTS_BASELINE);
    current = await currentEventTypes();
  });

  it('still publishes every released subject with the message type it was released with', () => {
    expect(Object.keys(released).length).toBeGreaterThan(0);
    expect(eventBreaks(released, current)).toEqual([]);
  });

  it("reads the subjects from the services' catalogs, message types by their full protobuf names", () => {
    expect(current).toMatchObject({
      'trellis.tracking.v1.run.finished': 'trellis.tracking.v1.RunFinishedEvent',
      'trellis.monitoring.v1.drift.detected': 'trellis.monitoring.v1.WindowClosedEvent',
      'trellis.governance.v1.audit.recorded': 'trellis.audit.v1.AuditEvent',
    });
  });

  it('names a released subject that is gone, or carries another type, with what it was, what it is and what to do', () => {
    const breaks = eventBreaks(
      { 'trellis.x.v1.run.created': 'trellis.x.v1.RunCreatedEvent', 'trellis.x.v1.run.finished': 'trellis.x.v1.RunFinishedEvent' },
      { 'trellis.x.v1.run.finished': 'trellis.x.v1.RunEvent' },
    );
    expect(breaks).toEqual([
      expect.stringMatching(/^event subject "trellis\.x\.v1\.run\.created" was released carrying trellis\.x\.v1\.RunCreatedEvent and is gone: .*a v2 subject/),
      expect.stringMatching(/^event subject "trellis\.x\.v1\.run\.finished" was released carrying trellis\.x\.v1\.RunFinishedEvent and now carries trellis\.x\.v1\.RunEvent: .*a v2 subject/),
    ]);
  });

  it('lets subjects be added, new versions of a subject included', () => {
    const released = { 'trellis.x.v1.run.created': 'trellis.x.v1.RunCreatedEvent' };
    expect(eventBreaks(released, { ...released, 'trellis.x.v1.run.deleted': 'trellis.x.v1.RunDeletedEvent', 'trellis.x.v2.run.created': 'trellis.x.v2.RunCreatedEvent' })).toEqual([]);
  });

  it('refuses one subject declared by two catalogs with different messages', () => {
    const catalog = (typeName: string) => ({ table: { 'trellis.x.v1.run.created': { typeName } }, subjects: ['trellis.x.v1.run.created'] });
    expect(() => eventTypesOf([catalog('trellis.x.v1.A'), catalog('trellis.x.v1.B')])).toThrow('"trellis.x.v1.run.created" is declared twice, carrying trellis.x.v1.A and trellis.x.v1.B');
  });
});
