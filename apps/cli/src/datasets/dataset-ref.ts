import type { GatewayClient } from '@trellis/client';
import type { ListDatasetsResponseJson, ResolveDatasetReferenceResponseJson } from '@trellis/proto/trellis/data/v1/data_service_pb';
import type { DatasetJson, DatasetVersionJson } from '@trellis/proto/trellis/data/v1/resources_pb';
import { CliError, EXIT } from '../exit-codes';
import { excerpt } from './local-files';

/** A dataset and, optionally, one of its versions: `churn`, `churn:3` (a number), `churn@golden` (a tag). */
export interface VersionRef {
  name: string;
  version?: number;
  tag?: string;
}

const REF = /^([^:@]+)(?::(\d{1,15})|@([A-Za-z0-9._-]{1,128}))?$/;

/** Reads `name`, `name:<version>` or `name@<tag>`; a usage error says which forms there are. */
export function parseVersionRef(text: string): VersionRef {
  const match = REF.exec(text);
  if (!match) throw new CliError(`${excerpt(text, 64)}: name a dataset as <name>, <name>:<version> or <name>@<tag> (churn, churn:3, churn@golden)`, EXIT.usage);
  const [, name, version, tag] = match;
  return { name, ...(version !== undefined ? { version: Number(version) } : {}), ...(tag !== undefined ? { tag } : {}) };
}

/** The project's live dataset of that name; NOT_FOUND's exit code and what to do when there is none. */
export async function findDataset(client: GatewayClient, projectId: string, name: string): Promise<DatasetJson> {
  let pageToken = '';
  do {
    const page = await client.call<ListDatasetsResponseJson>('trellis.data.v1.DataService/ListDatasets', { projectId, pageSize: 1000, pageToken });
    const found = page.datasets?.find((dataset) => dataset.name === name);
    if (found) return found;
    pageToken = page.nextPageToken ?? '';
  } while (pageToken);
  throw new CliError(`no dataset "${excerpt(name, 64)}" in this project: \`trellis datasets list\` shows them, \`trellis datasets create ${excerpt(name, 64)}\` makes it`, EXIT.notFound);
}

/** The version a reference names: its number, its tag, or the dataset's latest when it names neither. */
export async function resolveVersion(client: GatewayClient, projectId: string, ref: VersionRef): Promise<DatasetVersionJson> {
  let reference: string;
  if (ref.tag !== undefined) reference = `datasets:/${ref.name}@${ref.tag}`;
  else if (ref.version !== undefined) reference = `datasets:/${ref.name}/${ref.version}`;
  else {
    const dataset = await findDataset(client, projectId, ref.name);
    if (!dataset.latestVersion || dataset.latestVersion === '0') throw new CliError(`dataset "${excerpt(ref.name, 64)}" has no version yet: \`trellis datasets push ${excerpt(ref.name, 64)} <dir>\` makes one`, EXIT.notFound);
    reference = `datasets:/${ref.name}/${dataset.latestVersion}`;
  }
  const { version } = await client.call<ResolveDatasetReferenceResponseJson>('trellis.data.v1.DataService/ResolveDatasetReference', { projectId, reference });
  if (!version) throw new CliError(`${excerpt(reference, 80)} names no version`, EXIT.notFound);
  return version;
}
