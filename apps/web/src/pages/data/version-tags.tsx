import type { SetDatasetVersionTagResponseJson } from '@trellis/proto/trellis/data/v1/data_service_pb';
import type { DatasetVersionJson } from '@trellis/proto/trellis/data/v1/resources_pb';
import { useState, type FormEvent } from 'react';
import { useMutation } from '../../api/use-rpc';
import { ErrorBanner } from '../../components/error-banner';
import { Panel } from '../../components/page';
import { useCan } from '../project-layout';

/** A version's tags; editors add one (moving it from another version when asked) or remove one. Viewers only read them. */
export function VersionTags({ datasetId, version, onChange }: { datasetId: string; version: DatasetVersionJson; onChange(): void }) {
  const canEdit = useCan('editor');
  const setTag = useMutation<SetDatasetVersionTagResponseJson>('trellis.data.v1.DataService/SetDatasetVersionTag');
  const removeTag = useMutation('trellis.data.v1.DataService/DeleteDatasetVersionTag');
  const [tag, setTagText] = useState('');
  const [move, setMove] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await setTag.run({ datasetId, version: version.version, tag, move })) {
      setTagText('');
      onChange();
    }
  };
  const remove = async (name: string) => {
    if (await removeTag.run({ datasetId, tag: name })) onChange();
  };
  const tags = version.tags ?? [];
  return (
    <Panel title="Tags">
      {tags.length === 0 ? <p className="muted">No tags.</p> : null}
      <ul className="inline-form" aria-label="Tags of this version">
        {tags.map((name) => (
          <li key={name} className="badge">
            {name}
            {canEdit ? (
              <>
                {' '}
                <button type="button" className="link" aria-label={`Remove tag ${name}`} onClick={() => void remove(name)} disabled={removeTag.pending}>
                  ×
                </button>
              </>
            ) : null}
          </li>
        ))}
      </ul>
      {canEdit ? (
        <form className="inline-form" onSubmit={submit}>
          <label htmlFor="version-tag">Tag</label>
          <input id="version-tag" value={tag} onChange={(event) => setTagText(event.target.value)} pattern="[A-Za-z0-9._\-]{1,128}" title="1 to 128 letters, digits, dots, underscores and dashes, not only digits" required />
          <label>
            <input type="checkbox" checked={move} onChange={(event) => setMove(event.target.checked)} /> move it here if another version has it
          </label>
          <button type="submit" disabled={setTag.pending}>
            Add tag
          </button>
        </form>
      ) : null}
      <ErrorBanner error={setTag.error ?? removeTag.error} />
    </Panel>
  );
}
