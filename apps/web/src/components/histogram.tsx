import { formatNumber } from './format';

/** One bar: a bucket's lower and upper bound and how many values fell in it. */
export interface HistogramBin {
  lower: number;
  upper: number;
  count: number;
}

/**
 * Bars of a distribution, drawn as SVG (light enough for a page of columns). With `reference`,
 * its bars are drawn behind, outlined, so two distributions (training data and live traffic)
 * compare at a glance; both are scaled to shares so different sizes compare.
 */
export function Histogram({ bins, reference, label, width = 320, height = 120 }: { bins: readonly HistogramBin[]; reference?: readonly HistogramBin[]; label: string; width?: number; height?: number }) {
  const share = (list: readonly HistogramBin[]) => {
    const total = list.reduce((sum, bin) => sum + bin.count, 0) || 1;
    return list.map((bin) => bin.count / total);
  };
  const shares = share(bins);
  const referenceShares = reference ? share(reference) : [];
  const top = Math.max(...shares, ...referenceShares, 1e-9);
  const barWidth = width / Math.max(bins.length, 1);
  const first = bins[0];
  const last = bins[bins.length - 1];
  return (
    <figure className="histogram">
      <svg width={width} height={height + 16} role="img" aria-label={label}>
        {referenceShares.map((value, index) => (
          <rect key={`r${index}`} x={index * barWidth + 1} y={height - (value / top) * height} width={Math.max(barWidth - 2, 1)} height={(value / top) * height} fill="none" stroke="#b4462c" strokeWidth={1} />
        ))}
        {shares.map((value, index) => (
          <rect key={index} x={index * barWidth + 1} y={height - (value / top) * height} width={Math.max(barWidth - 2, 1)} height={(value / top) * height} fill="#1f5f4a" opacity={reference ? 0.7 : 1}>
            <title>{`${formatNumber(bins[index].lower)} to ${formatNumber(bins[index].upper)}: ${bins[index].count}`}</title>
          </rect>
        ))}
        <text x={0} y={height + 13} fontSize={11} fill="#4f5b56">
          {first ? formatNumber(first.lower) : ''}
        </text>
        <text x={width} y={height + 13} fontSize={11} fill="#4f5b56" textAnchor="end">
          {last ? formatNumber(last.upper) : ''}
        </text>
      </svg>
    </figure>
  );
}
