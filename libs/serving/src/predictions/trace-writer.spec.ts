import { silentLogger } from '@trellis/platform';
import { eventually } from '@trellis/testing';
import { TraceWriter, type TraceRow, type TraceWriterOptions } from './trace-writer';

const row = (index: number): TraceRow => ({ requestId: `req-${index}`, projectId: 'p1', endpointId: 'ep-1', endpointName: 'fraud', revisionId: 'rev-1', answeredAt: 1_700_000_000_000 + index, latencyUs: 250 });

/** A repository whose INSERTs the spec can hold (a database behind) or fail. */
function setUp(options: Partial<TraceWriterOptions> = {}) {
  const inserts: string[][] = [];
  const held: Array<() => void> = [];
  const state = { holding: false, failing: false, dropped: 0 };
  const repository = {
    insert: async (rows: readonly TraceRow[]) => {
      if (state.holding) await new Promise<void>((resolve) => held.push(resolve));
      if (state.failing) throw new Error('disk full');
      inserts.push(rows.map((each) => each.requestId));
    },
  };
  const release = () => {
    state.holding = false;
    for (const resume of held.splice(0)) resume();
  };
  const writer = new TraceWriter(repository, { capacity: 1000, batchRows: 4, lingerMs: 600_000, dropped: (rows) => (state.dropped += rows), logger: silentLogger as never, ...options });
  return { writer, inserts, state, release, stored: () => inserts.flat() };
}

describe('TraceWriter', () => {
  it('stores a full batch in one INSERT at once, and leaves the rest for the next', async () => {
    const { writer, inserts } = setUp();

    for (let index = 0; index < 9; index++) writer.add(row(index));
    await eventually(() => expect(inserts).toEqual([['req-0', 'req-1', 'req-2', 'req-3'], ['req-4', 'req-5', 'req-6', 'req-7']]));
    await writer.flush();

    expect(inserts).toEqual([['req-0', 'req-1', 'req-2', 'req-3'], ['req-4', 'req-5', 'req-6', 'req-7'], ['req-8']]);
  });

  it('stores rows that wait alone once the linger passes, without a flush', async () => {
    const { writer, inserts } = setUp({ lingerMs: 5 });

    writer.add(row(0));
    writer.add(row(1));

    await eventually(() => expect(inserts).toEqual([['req-0', 'req-1']]));
  });

  it('gathers the rows taken while a write is under way into the next INSERT', async () => {
    const { writer, inserts, state, release } = setUp();
    state.holding = true;
    for (let index = 0; index < 4; index++) writer.add(row(index));
    for (let index = 4; index < 11; index++) writer.add(row(index));

    release();
    await writer.flush();

    expect(inserts.map((rows) => rows.length)).toEqual([4, 4, 3]);
  });

  it('drops and counts rows beyond its capacity while the database is behind, never waiting, and stores those it took', async () => {
    const { writer, state, release, stored } = setUp({ capacity: 3, batchRows: 2 });
    state.holding = true;

    const taken = Array.from({ length: 9 }, (_, index) => writer.add(row(index)));

    // The first 2 went into the held INSERT; 3 more wait; the last 4 do not fit.
    expect(taken).toEqual([true, true, true, true, true, false, false, false, false]);
    expect(state.dropped).toBe(4);
    release();
    await writer.flush();
    expect(stored()).toEqual(['req-0', 'req-1', 'req-2', 'req-3', 'req-4']);
  });

  it('counts the rows of a failed INSERT as dropped and goes on storing later ones', async () => {
    const { writer, state, stored } = setUp();
    state.failing = true;
    for (let index = 0; index < 4; index++) writer.add(row(index));
    await writer.flush();
    state.failing = false;

    writer.add(row(4));
    await writer.flush();

    expect(state.dropped).toBe(4);
    expect(stored()).toEqual(['req-4']);
  });
});
