import type { EndpointJson, TrafficSplitJson } from '@trellis/proto/trellis/serving/v1/resources_pb';
import { PALETTE } from '../../components/time-series-chart';
import { revisionLabel, sharesOf } from './serving-api';

/** A split as one bar of shares, each revision a segment as wide as its percent, with a legend in words. */
export function TrafficBar({ endpoint, split = endpoint.traffic, label = 'Traffic split' }: { endpoint: EndpointJson; split?: TrafficSplitJson; label?: string }) {
  const shares = sharesOf(endpoint, split);
  const colorOf = (number: number | undefined) => PALETTE[((number ?? 1) - 1) % PALETTE.length];
  const words = shares.map(({ revision, revisionId, percent }) => `${revisionLabel(revision, revisionId)} ${percent}%`).join(', ');
  return (
    <div className="traffic">
      <div className="traffic-bar" role="img" aria-label={`${label}: ${words || 'none'}`}>
        {shares.map(({ revision, revisionId, percent }) => (
          <span key={revisionId} style={{ width: `${percent}%`, background: colorOf(revision?.number) }} />
        ))}
      </div>
      <ul className="traffic-legend" aria-hidden="true">
        {shares.map(({ revision, revisionId, percent }) => (
          <li key={revisionId}>
            <span className="swatch" style={{ background: colorOf(revision?.number) }} /> {revisionLabel(revision, revisionId)}: <strong>{percent}%</strong>
          </li>
        ))}
        {split?.shadowRevisionId ? <li>Shadow: {revisionLabel(endpoint.revisions?.find((revision) => revision.id === split.shadowRevisionId), split.shadowRevisionId)}</li> : null}
      </ul>
    </div>
  );
}
