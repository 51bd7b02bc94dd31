import type { AliasChangeJson } from '@trellis/proto/trellis/registry/v1/resources_pb';
import { useId, useState } from 'react';
import { Link } from 'react-router';
import { formatTime } from '../../components/format';
import { versionAt, versionNumber, versionPath } from './registry-api';

/**
 * Each alias's history as a vertical timeline, oldest change first, and a question a reviewer
 * asks after an incident: which version did this alias point at at that moment? It is answered
 * from the same history, so it agrees with the timeline.
 */
export function AliasTimelines({ projectId, model, history }: { projectId: string; model: string; history: readonly AliasChangeJson[] }) {
  const aliases = [...new Set(history.map((change) => change.alias ?? ''))].sort();
  if (aliases.length === 0) return <p className="muted">No alias has pointed at a version of this model yet.</p>;
  return (
    <>
      <div className="timelines">
        {aliases.map((alias) => (
          <section key={alias} aria-label={`History of ${alias}`}>
            <h3>{alias}</h3>
            <ol className="timeline">
              {history
                .filter((change) => change.alias === alias)
                .reverse()
                .map((change) => (
                  <li key={`${change.changeTime}-${change.toVersion}-${change.fromVersion}`}>
                    <time dateTime={change.changeTime}>{formatTime(change.changeTime)}</time>
                    <ChangeText projectId={projectId} model={model} change={change} />
                    <span className="muted"> by {change.actorId}</span>
                    {change.approvalId ? <span className="muted"> (approval {change.approvalId})</span> : null}
                  </li>
                ))}
            </ol>
          </section>
        ))}
      </div>
      <VersionOnDate projectId={projectId} model={model} history={history} aliases={aliases} />
    </>
  );
}

function ChangeText({ projectId, model, change }: { projectId: string; model: string; change: AliasChangeJson }) {
  const from = versionNumber(change.fromVersion);
  const to = versionNumber(change.toVersion);
  const link = (version: number) => <Link to={versionPath(projectId, model, version)}>v{version}</Link>;
  if (to === 0) return <span> deleted (was {link(from)})</span>;
  if (from === 0) return <span> set to {link(to)}</span>;
  return (
    <span>
      {' '}
      moved {link(from)} → {link(to)}
    </span>
  );
}

/** "Which version was <alias> on <date>?", answered from the history. */
function VersionOnDate({ projectId, model, history, aliases }: { projectId: string; model: string; history: readonly AliasChangeJson[]; aliases: string[] }) {
  const id = useId();
  const [alias, setAlias] = useState(aliases.includes('champion') ? 'champion' : aliases[0]);
  const [when, setWhen] = useState('');
  const moment = when ? new Date(when) : undefined;
  const version = moment && !Number.isNaN(moment.getTime()) ? versionAt(history, alias, moment) : undefined;
  return (
    <div className="inline-form">
      <label htmlFor={`${id}-alias`}>Which version was</label>
      <select id={`${id}-alias`} value={alias} onChange={(event) => setAlias(event.target.value)}>
        {aliases.map((name) => (
          <option key={name}>{name}</option>
        ))}
      </select>
      <label htmlFor={`${id}-when`}>on</label>
      <input id={`${id}-when`} type="datetime-local" step="1" value={when} onChange={(event) => setWhen(event.target.value)} />
      <output htmlFor={`${id}-alias ${id}-when`} aria-live="polite">
        {version === undefined ? null : version === 0 ? (
          <span>{alias} pointed at no version then.</span>
        ) : (
          <span>
            {alias} pointed at <Link to={versionPath(projectId, model, version)}>version {version}</Link>.
          </span>
        )}
      </output>
    </div>
  );
}
