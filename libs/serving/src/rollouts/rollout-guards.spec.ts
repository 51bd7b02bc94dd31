import { combined, driftFinding, judge, type DriftWindow } from './rollout-guards';

const guards = { maxErrorPercent: 5, maxP99LatencyMs: 100, minRequests: 20 };

describe('judging a canary', () => {
  it('waits for the requests it needs before judging, even past its bake time', () => {
    expect(judge(guards, { requests: 19, errors: 19, p99Ms: 500 }, true)).toEqual({ action: 'wait', reason: 'waiting for requests: 19 of the 20 needed to judge' });
  });

  it('rolls back as soon as the error rate crosses its guard, before the bake time ends', () => {
    expect(judge(guards, { requests: 20, errors: 2, p99Ms: 3 }, false)).toEqual({ action: 'roll_back', reason: 'error rate 10.0% > 5.0% over 20 requests' });
  });

  it('rolls back on p99 latency over its guard', () => {
    expect(judge(guards, { requests: 40, errors: 0, p99Ms: 120 }, false)).toEqual({ action: 'roll_back', reason: 'p99 latency 120.0 ms > 100 ms over 40 requests' });
  });

  it('keeps baking within its guards, then promotes', () => {
    expect(judge(guards, { requests: 40, errors: 1, p99Ms: 8 }, false).action).toBe('wait');
    expect(judge(guards, { requests: 40, errors: 1, p99Ms: 8 }, true)).toEqual({ action: 'promote', reason: 'baked within its guards: error rate 2.5%, p99 latency 8.0 ms over 40 requests' });
  });

  it('checks no guard left at 0, and needs one request when min_requests is 0', () => {
    const none = { maxErrorPercent: 0, maxP99LatencyMs: 0, minRequests: 0 };
    expect(judge(none, { requests: 0, errors: 0, p99Ms: undefined }, true).action).toBe('wait');
    expect(judge(none, { requests: 3, errors: 3, p99Ms: 9000 }, true).action).toBe('promote');
  });

  it("rolls back on its drift monitor's finding before it has answered min_requests, even within its other guards", () => {
    const finding = 'drift monitor churn-drift: window 7 was dataset drift (4 of 6 columns)';
    expect(judge(guards, { requests: 0, errors: 0, p99Ms: undefined }, false, finding)).toEqual({ action: 'roll_back', reason: finding });
    expect(judge(guards, { requests: 40, errors: 0, p99Ms: 3 }, true, finding)).toEqual({ action: 'roll_back', reason: finding });
    expect(judge(guards, { requests: 40, errors: 0, p99Ms: 3 }, true, '').action).toBe('promote');
  });
});

describe("a drift monitor's window, judged against a baking canary", () => {
  const canary = { candidateRevisionId: 'rev-2', startedAt: 1_000 };
  const window: DriftWindow = { monitorName: 'churn-drift', number: 7, closedAt: 5_000, datasetDrift: true, driftedColumns: 4, scoredColumns: 6, revisionIds: ['rev-1', 'rev-2'] };

  it('condemns the canary with a reason that names the monitor, the window and its drifted columns', () => {
    expect(driftFinding('churn-drift', canary, window)).toBe('drift monitor churn-drift: window 7 was dataset drift (4 of 6 columns)');
  });

  it("says nothing of another monitor's window, or to a policy without a drift monitor", () => {
    expect(driftFinding('fraud-drift', canary, window)).toBeUndefined();
    expect(driftFinding('', canary, { ...window, monitorName: '' })).toBeUndefined();
  });

  it('says nothing of a window without rows of the candidate, or without dataset drift', () => {
    expect(driftFinding('churn-drift', canary, { ...window, revisionIds: ['rev-1'] })).toBeUndefined();
    expect(driftFinding('churn-drift', canary, { ...window, datasetDrift: false })).toBeUndefined();
  });

  it('says nothing of a window scored before the canary took traffic, or when the event gives no time', () => {
    expect(driftFinding('churn-drift', canary, { ...window, closedAt: 1_000 })).toBeUndefined();
    expect(driftFinding('churn-drift', canary, { ...window, closedAt: 0 })).toBeUndefined();
    expect(driftFinding('churn-drift', { ...canary, startedAt: 0 }, window)).toBeUndefined();
  });
});

describe("adding up the replicas' windows of a canary", () => {
  it('adds requests and errors, and keeps the highest p99 of the replicas that answered any', () => {
    const windows = [
      { requests: 10, errors: 1, p99Ms: 12 },
      { requests: 0, errors: 0, p99Ms: undefined },
      { requests: 30, errors: 0, p99Ms: 4 },
    ];
    expect(combined(windows)).toEqual({ requests: 40, errors: 1, p99Ms: 12 });
  });

  it('has no p99 when no replica answered a request', () => {
    expect(combined([{ requests: 0, errors: 0, p99Ms: undefined }])).toEqual({ requests: 0, errors: 0, p99Ms: undefined });
    expect(combined([])).toEqual({ requests: 0, errors: 0, p99Ms: undefined });
  });
});
