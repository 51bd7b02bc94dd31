import { alignedStart, completeCountWindows, countWindowRange, nextTimeStart } from './window-bounds';

describe('count windows', () => {
  it('tumble: window k covers rows (k-1)N+1 to kN and is complete once its last row is in', () => {
    const windows = { size: 100, slide: 100, offset: 0 };
    expect(countWindowRange(windows, 1)).toEqual({ firstSeq: 1, lastSeq: 100 });
    expect(countWindowRange(windows, 3)).toEqual({ firstSeq: 201, lastSeq: 300 });
    expect(completeCountWindows(windows, 99)).toBe(0);
    expect(completeCountWindows(windows, 100)).toBe(1);
    expect(completeCountWindows(windows, 299)).toBe(2);
  });

  it('slide: windows overlap and start every S rows', () => {
    const windows = { size: 100, slide: 25, offset: 0 };
    expect(countWindowRange(windows, 2)).toEqual({ firstSeq: 26, lastSeq: 125 });
    expect(completeCountWindows(windows, 124)).toBe(1);
    expect(completeCountWindows(windows, 125)).toBe(2);
    expect(completeCountWindows(windows, 200)).toBe(5);
  });

  it('start after the rows of a log-window reference', () => {
    const windows = { size: 10, slide: 10, offset: 50 };
    expect(countWindowRange(windows, 1)).toEqual({ firstSeq: 51, lastSeq: 60 });
    expect(completeCountWindows(windows, 55)).toBe(0);
    expect(completeCountWindows(windows, 60)).toBe(1);
  });
});

describe('time windows', () => {
  const tumbling = { sizeMs: 60_000, slideMs: 60_000 };
  const sliding = { sizeMs: 60_000, slideMs: 20_000 };

  it('align to the epoch', () => {
    expect(alignedStart(tumbling, 125_000)).toBe(120_000);
    expect(alignedStart(sliding, 125_000)).toBe(120_000);
    expect(alignedStart(tumbling, 120_000)).toBe(120_000);
  });

  it('tumble to the next window when rows follow at once', () => {
    expect(nextTimeStart(tumbling, 120_000, 185_000, 185_000)).toBe(180_000);
    expect(nextTimeStart(sliding, 120_000, 150_000, 185_000)).toBe(140_000);
  });

  it('skip windows that ended empty, but not one that may still get rows', () => {
    // Rows resume at 10:05:00; the watermark is there too: windows from 10:03 to 10:05 ended empty.
    expect(nextTimeStart(tumbling, 120_000, 605_000, 605_000)).toBe(600_000);
    // The sliding windows from 560 s and 580 s also hold 605 s.
    expect(nextTimeStart(sliding, 120_000, 605_000, 605_000)).toBe(560_000);
    // No row kept, the watermark at 200 s: the window 180-240 s has not ended, the next one is it.
    expect(nextTimeStart(tumbling, 60_000, undefined, 200_000)).toBe(180_000);
    // Only the following window when it has not ended yet, whatever rows come later.
    expect(nextTimeStart(tumbling, 120_000, 900_000, 200_000)).toBe(180_000);
  });
});
