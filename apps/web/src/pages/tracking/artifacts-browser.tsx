import type { ListArtifactsResponseJson } from '@trellis/proto/trellis/tracking/v1/artifact_service_pb';
import type { FileInfoJson } from '@trellis/proto/trellis/tracking/v1/resources_pb';
import { useEffect, useState } from 'react';
import { useSession } from '../../api/session';
import { useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { ErrorBanner } from '../../components/error-banner';
import { formatBytes } from '../../components/format';
import { downloadArtifact, fetchArtifact, imageTypeOf, PREVIEW_LIMIT_BYTES, textOf } from './artifact-bytes';

/** Entries a folder lists at most (tracking's largest page). */
const LIST_PAGE = 1000;

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/**
 * A run's artifacts: the folders to walk through (a breadcrumb back up) and the files, one of
 * which is previewed: text as text, an image as an image, anything over 1 MiB offered for
 * download instead of fetched.
 */
export function ArtifactsBrowser({ runId }: { runId: string }) {
  const [folder, setFolder] = useState('');
  const [file, setFile] = useState<FileInfoJson>();
  const listing = useRpc<ListArtifactsResponseJson>('trellis.tracking.v1.ArtifactService/ListArtifacts', { runId, path: folder, pageSize: LIST_PAGE });
  const segments = folder ? folder.split('/') : [];
  const open = (path: string) => {
    setFolder(path);
    setFile(undefined);
  };
  return (
    <div className="artifacts">
      <nav aria-label="Artifact folders" className="breadcrumb">
        <button type="button" className="link" onClick={() => open('')} aria-current={folder === '' ? 'location' : undefined}>
          artifacts
        </button>
        {segments.map((segment, index) => (
          <span key={index}>
            {' / '}
            <button type="button" className="link" onClick={() => open(segments.slice(0, index + 1).join('/'))} aria-current={index === segments.length - 1 ? 'location' : undefined}>
              {segment}
            </button>
          </span>
        ))}
      </nav>
      <ErrorBanner error={listing.error} />
      <DataTable
        label="Artifacts"
        rows={listing.data?.files ?? []}
        rowKey={(entry) => entry.path ?? ''}
        columns={[
          {
            key: 'name',
            header: 'Name',
            cell: (entry) => (
              <button type="button" className="link artifact-entry" aria-pressed={entry.isDir ? undefined : file?.path === entry.path} onClick={() => (entry.isDir ? open(entry.path ?? '') : setFile(entry))}>
                {baseName(entry.path ?? '')}
                {entry.isDir ? '/' : ''}
              </button>
            ),
          },
          { key: 'size', header: 'Size', align: 'right', cell: (entry) => (entry.isDir ? '' : formatBytes(entry.sizeBytes)) },
        ]}
        empty={listing.loading ? 'Loading…' : 'No artifacts here.'}
      />
      {listing.data?.nextPageToken ? <p className="muted">Showing the first {LIST_PAGE} entries of this folder.</p> : null}
      {file ? <ArtifactPreview key={file.path} runId={runId} file={file} /> : null}
    </div>
  );
}

type Preview = { kind: 'text'; text: string } | { kind: 'image'; url: string } | { kind: 'binary' } | { kind: 'failed'; error: Error };

/** One file's preview, fetched when shown (and its image URL released when it goes). */
function ArtifactPreview({ runId, file }: { runId: string; file: FileInfoJson }) {
  const { client } = useSession();
  const path = file.path ?? '';
  const size = Number(file.sizeBytes ?? 0);
  const previewable = size <= PREVIEW_LIMIT_BYTES;
  const [preview, setPreview] = useState<Preview>();
  const [downloadError, setDownloadError] = useState<Error>();
  useEffect(() => {
    if (!previewable) return;
    const abort = new AbortController();
    let imageUrl: string | undefined;
    fetchArtifact(client, runId, path, abort.signal).then(
      (bytes) => {
        if (abort.signal.aborted) return;
        const imageType = imageTypeOf(path);
        if (imageType) {
          imageUrl = URL.createObjectURL(new Blob([bytes], { type: imageType }));
          return setPreview({ kind: 'image', url: imageUrl });
        }
        const text = textOf(bytes);
        setPreview(text === undefined ? { kind: 'binary' } : { kind: 'text', text });
      },
      (error: Error) => !abort.signal.aborted && setPreview({ kind: 'failed', error }),
    );
    return () => {
      abort.abort();
      if (imageUrl) URL.revokeObjectURL(imageUrl);
    };
  }, [client, runId, path, previewable]);
  const download = () => downloadArtifact(client, runId, path).catch((error: Error) => setDownloadError(error));
  return (
    <section className="artifact-preview" aria-label={`Preview of ${path}`}>
      <header className="panel-header">
        <h3>{path}</h3>
        <button type="button" className="secondary" onClick={download}>
          Download
        </button>
      </header>
      <ErrorBanner error={downloadError} />
      {!previewable ? <p className="muted">{formatBytes(size)}: too large to preview; download it instead.</p> : null}
      {previewable && !preview ? <p className="muted">Loading…</p> : null}
      {preview?.kind === 'text' ? <pre tabIndex={0}>{preview.text}</pre> : null}
      {preview?.kind === 'image' ? <img src={preview.url} alt={path} className="artifact-image" /> : null}
      {preview?.kind === 'binary' ? <p className="muted">A binary file: download it to open it.</p> : null}
      {preview?.kind === 'failed' ? <ErrorBanner error={preview.error} /> : null}
    </section>
  );
}
