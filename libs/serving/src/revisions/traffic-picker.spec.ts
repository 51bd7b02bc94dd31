import { TrafficPicker } from './traffic-picker';

const split = (shares: Record<string, number>) => Object.entries(shares).map(([revisionId, percent]) => ({ revisionId, percent }));
const counts = (picker: TrafficPicker, targets: ReturnType<typeof split>, times: number) => {
  const seen: Record<string, number> = {};
  for (let i = 0; i < times; i++) {
    const { revisionId } = picker.pick('e', targets);
    seen[revisionId] = (seen[revisionId] ?? 0) + 1;
  }
  return seen;
};

describe('the traffic picker', () => {
  it('gives each target exactly its percent of every 100 requests', () => {
    const picker = new TrafficPicker();
    expect(counts(picker, split({ a: 90, b: 10 }), 100)).toEqual({ a: 90, b: 10 });
    expect(counts(picker, split({ a: 90, b: 10 }), 200)).toEqual({ a: 180, b: 20 });
    expect(counts(new TrafficPicker(), split({ a: 34, b: 33, c: 33 }), 100)).toEqual({ a: 34, b: 33, c: 33 });
  });

  it('interleaves the targets instead of sending runs of one', () => {
    const picker = new TrafficPicker();
    const order = Array.from({ length: 4 }, () => picker.pick('e', split({ a: 50, b: 50 })).revisionId);
    expect(order).toEqual(['a', 'b', 'a', 'b']);
  });

  it('starts over when the split changes', () => {
    const picker = new TrafficPicker();
    counts(picker, split({ a: 90, b: 10 }), 7);
    expect(counts(picker, split({ b: 100 }), 3)).toEqual({ b: 3 });
    expect(counts(picker, split({ a: 50, b: 50 }), 10)).toEqual({ a: 5, b: 5 });
  });
});
