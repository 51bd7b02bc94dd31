import type {
  CreateDatasetResponseJson,
  DiffDatasetVersionsResponseJson,
  ListDatasetsResponseJson,
  ListDatasetVersionsResponseJson,
  SetDatasetVersionTagResponseJson,
} from '@trellis/proto/trellis/data/v1/data_service_pb';
import type { GetVersionProfileResponseJson } from '@trellis/proto/trellis/data/v1/profile_service_pb';
import type { DatasetFileChangeJson, DatasetFileJson, DatasetJson, DatasetVersionJson } from '@trellis/proto/trellis/data/v1/resources_pb';
import { InvalidArgumentError } from 'commander';
import { CliError, EXIT } from '../exit-codes';
import { findDataset, parseVersionRef, resolveVersion } from '../datasets/dataset-ref';
import { pullDataset, versionFiles } from '../datasets/pull';
import { pushDataset } from '../datasets/push';
import { formatBytes } from '@trellis/client';
import type { CommandGroup } from '../command-group';

const MiB = 1024 * 1024;

/** `trellis datasets`: list and create, push and pull with progress and resume, log, diff, tags, files and profiles. */
export const registerDatasets: CommandGroup = (program, context) => {
  const datasets = program.command('datasets').description("the project's datasets: versions pushed from directories, pulled back, compared and profiled");

  datasets
    .command('list')
    .description("list the project's datasets")
    .addHelpText('after', '\nExample:\n  trellis datasets list --project churn')
    .action(async () => {
      const ctx = context();
      const projectId = await ctx.projectId();
      const rows: DatasetJson[] = [];
      let pageToken = '';
      do {
        const page = await ctx.client().call<ListDatasetsResponseJson>('trellis.data.v1.DataService/ListDatasets', { projectId, pageSize: 1000, pageToken });
        rows.push(...(page.datasets ?? []));
        pageToken = page.nextPageToken ?? '';
      } while (pageToken);
      ctx.output.table(rows, [
        { header: 'name', value: (dataset) => dataset.name },
        { header: 'latest', value: (dataset) => dataset.latestVersion },
        { header: 'id', value: (dataset) => dataset.id },
        { header: 'updated', value: (dataset) => dataset.updateTime },
        { header: 'description', value: (dataset) => dataset.description },
      ]);
    });

  datasets
    .command('create <name>')
    .description('create an empty dataset (push makes its versions)')
    .option('-d, --description <text>', 'what the dataset holds')
    .addHelpText('after', '\nExample:\n  trellis datasets create churn --description "customer churn, one row per account"')
    .action(async (name: string, options: { description?: string }) => {
      const ctx = context();
      const projectId = await ctx.projectId();
      const { dataset } = await ctx.client().call<CreateDatasetResponseJson>('trellis.data.v1.DataService/CreateDataset', { projectId, name, description: options.description ?? '' });
      ctx.output.done(`Created dataset ${dataset?.name} (${dataset?.id}).`, dataset);
    });

  datasets
    .command('push <name> <paths...>')
    .description(
      'push files and directories as a new version: only contents the project lacks are uploaded, and a push run again after an interruption sends only what is missing (a directory\'s files keep their paths relative to it); files unchanged since a push from this machine are not read again, and large new files are hashed while they are sent',
    )
    .option('-m, --message <text>', 'what changed in this version', '')
    .option('-t, --tag <tag>', 'tag the new version (repeatable; a tag on another version fails the push: move it with `datasets tag --move`)', collect, [])
    .option('--create', 'create the dataset if the project has none of that name')
    .option('--parts-over <MiB>', 'send files larger than this in parts, which a rerun resumes part by part (smaller files are sent whole)', mebibytes, 1024 * MiB)
    .option('--part-size <MiB>', 'the size of those parts, from 5', mebibytes, 64 * MiB)
    .addHelpText(
      'after',
      '\nExamples:\n  trellis datasets push churn ./data --message "March export" --tag march\n  trellis datasets push churn train.csv test.csv --create\n  trellis datasets push images ./shards --parts-over 256   # resumable 64 MiB parts over 256 MiB',
    )
    .action(async (name: string, paths: string[], options: { message: string; tag: string[]; create?: boolean; partsOver: number; partSize: number }) => {
      const ctx = context();
      if (options.partSize < 5 * MiB) throw new CliError('--part-size: parts are at least 5 MiB (all but a file\'s last)', EXIT.usage);
      const pushed = await pushDataset(ctx, name, paths, { message: options.message, tags: options.tag, create: options.create ?? false, partsOver: options.partsOver, partSize: options.partSize });
      const { version } = pushed;
      const rate = pushed.uploadedBytes > 0 && pushed.seconds > 0 ? ` at ${formatBytes(pushed.uploadedBytes / pushed.seconds)}/s` : '';
      ctx.output.done(
        `Pushed ${version.reference} (version ${version.version}): ${version.fileCount} files, ${formatBytes(Number(version.totalBytes ?? 0))}; uploaded ${pushed.uploadedFiles} files (${formatBytes(pushed.uploadedBytes)})${rate}, ${pushed.skippedFiles} already stored.`,
        { version, uploadedFiles: pushed.uploadedFiles, uploadedBytes: String(pushed.uploadedBytes), skippedFiles: pushed.skippedFiles, digests: pushed.digests },
      );
    });

  datasets
    .command('pull <dataset>')
    .description("download a version's files, checked against their digests; a pull run again keeps the files already there and continues partial ones")
    .option('--to <dir>', 'where to put the files (default: a directory named after the dataset)')
    .addHelpText('after', '\nExamples:\n  trellis datasets pull churn              # the latest version, into ./churn\n  trellis datasets pull churn:3 --to /data/churn-v3\n  trellis datasets pull churn@golden')
    .action(async (ref: string, options: { to?: string }) => {
      const ctx = context();
      const pulled = await pullDataset(ctx, ref, options.to);
      ctx.output.done(
        `Pulled ${pulled.version.reference} into ${pulled.directory}: ${pulled.downloadedFiles} files downloaded (${formatBytes(pulled.downloadedBytes)}), ${pulled.keptFiles} already there.`,
        { version: pulled.version, directory: pulled.directory, downloadedFiles: pulled.downloadedFiles, downloadedBytes: String(pulled.downloadedBytes), keptFiles: pulled.keptFiles },
      );
    });

  datasets
    .command('log <name>')
    .description("a dataset's versions, newest first: number, time, message, tags, files and bytes")
    .addHelpText('after', '\nExample:\n  trellis datasets log churn -o json')
    .action(async (name: string) => {
      const ctx = context();
      const dataset = await findDataset(ctx.client(), await ctx.projectId(), name);
      const versions: DatasetVersionJson[] = [];
      let pageToken = '';
      do {
        const page = await ctx.client().call<ListDatasetVersionsResponseJson>('trellis.data.v1.DataService/ListDatasetVersions', { datasetId: dataset.id, pageSize: 1000, pageToken });
        versions.push(...(page.versions ?? []));
        pageToken = page.nextPageToken ?? '';
      } while (pageToken);
      ctx.output.table(versions, [
        { header: 'version', value: (version) => version.version },
        { header: 'created', value: (version) => version.createTime },
        { header: 'files', value: (version) => version.fileCount },
        { header: 'size', value: (version) => formatBytes(Number(version.totalBytes ?? 0)) },
        { header: 'tags', value: (version) => (version.tags ?? []).join(',') },
        { header: 'message', value: (version) => version.message },
      ]);
    });

  datasets
    .command('show <dataset>')
    .description("a version's details and files (default: the latest version)")
    .addHelpText('after', '\nExamples:\n  trellis datasets show churn:2\n  trellis datasets show churn@golden -o json')
    .action(async (ref: string) => {
      const ctx = context();
      const version = await resolveVersion(ctx.client(), await ctx.projectId(), parseVersionRef(ref));
      const files = await versionFiles(ctx, version);
      if (ctx.output.format === 'json') return ctx.output.json({ version, files });
      ctx.output.fields([
        ['reference', version.reference],
        ['version', version.version],
        ['parent', version.parentVersion],
        ['created', version.createTime],
        ['author', version.authorId],
        ['message', version.message],
        ['tags', (version.tags ?? []).join(', ')],
        ['files', version.fileCount],
        ['size', formatBytes(Number(version.totalBytes ?? 0))],
      ]);
      ctx.output.line('');
      ctx.output.table(files, [
        { header: 'path', value: (file: DatasetFileJson) => file.path },
        { header: 'size', value: (file) => file.sizeBytes },
        { header: 'sha256', value: (file) => file.sha256?.slice(0, 12) },
        { header: 'media type', value: (file) => file.mediaType },
      ]);
    });

  datasets
    .command('diff <name> <from> <to>')
    .description('the files added, removed and changed from one version to another (numbers or tags; 0 is the empty version)')
    .addHelpText('after', '\nExamples:\n  trellis datasets diff churn 2 3\n  trellis datasets diff churn golden 5 -o json')
    .action(async (name: string, from: string, to: string) => {
      const ctx = context();
      const projectId = await ctx.projectId();
      const dataset = await findDataset(ctx.client(), projectId, name);
      const number = async (side: string) => (/^\d{1,15}$/.test(side) ? side : ((await resolveVersion(ctx.client(), projectId, { name, tag: side })).version ?? '0'));
      const [fromVersion, toVersion] = [await number(from), await number(to)];
      const changes: DatasetFileChangeJson[] = [];
      let pageToken = '';
      do {
        const page = await ctx.client().call<DiffDatasetVersionsResponseJson>('trellis.data.v1.DataService/DiffDatasetVersions', { datasetId: dataset.id, fromVersion, toVersion, pageSize: 1000, pageToken });
        changes.push(...(page.changes ?? []));
        pageToken = page.nextPageToken ?? '';
      } while (pageToken);
      ctx.output.table(
        changes,
        [
          { header: 'change', value: (change) => (change.kind ?? '').replace('FILE_CHANGE_KIND_', '').toLowerCase() },
          { header: 'path', value: (change) => change.path },
          { header: 'from size', value: (change) => (change.kind === 'FILE_CHANGE_KIND_ADDED' ? '' : change.fromSizeBytes) },
          { header: 'to size', value: (change) => (change.kind === 'FILE_CHANGE_KIND_REMOVED' ? '' : change.toSizeBytes) },
        ],
        { datasetId: dataset.id, fromVersion, toVersion, changes },
      );
    });

  datasets
    .command('tag <name> <version> <tag>')
    .description('name a version with a tag (a tag names one version of a dataset at a time)')
    .option('--move', 'move the tag if it names another version now')
    .addHelpText('after', '\nExamples:\n  trellis datasets tag churn 3 golden\n  trellis datasets tag churn 4 golden --move')
    .action(async (name: string, version: string, tag: string, options: { move?: boolean }) => {
      const ctx = context();
      if (!/^\d{1,15}$/.test(version)) throw new CliError(`version: must be a version number (see \`trellis datasets log ${name.slice(0, 64)}\`)`, EXIT.usage);
      const dataset = await findDataset(ctx.client(), await ctx.projectId(), name);
      const { version: tagged } = await ctx.client().call<SetDatasetVersionTagResponseJson>('trellis.data.v1.DataService/SetDatasetVersionTag', { datasetId: dataset.id, version, tag, move: options.move ?? false });
      ctx.output.done(`${name}@${tag} now names version ${tagged?.version}.`, tagged);
    });

  datasets
    .command('untag <name> <tag>')
    .description('remove a tag from a dataset')
    .addHelpText('after', '\nExample:\n  trellis datasets untag churn golden')
    .action(async (name: string, tag: string) => {
      const ctx = context();
      const dataset = await findDataset(ctx.client(), await ctx.projectId(), name);
      await ctx.client().call('trellis.data.v1.DataService/DeleteDatasetVersionTag', { datasetId: dataset.id, tag });
      ctx.output.done(`${name}@${tag} names no version now.`, { datasetId: dataset.id, tag });
    });

  datasets
    .command('profile <dataset>')
    .description("the column profiles of a version's tabular files (CSV, JSON Lines, Parquet): type, counts, range and mean")
    .addHelpText('after', '\nExamples:\n  trellis datasets profile churn:3\n  trellis datasets profile churn@golden -o json')
    .action(async (ref: string) => {
      const ctx = context();
      const version = await resolveVersion(ctx.client(), await ctx.projectId(), parseVersionRef(ref));
      const pages: GetVersionProfileResponseJson[] = [];
      let pageToken = '';
      do {
        const page = await ctx.client().call<GetVersionProfileResponseJson>('trellis.data.v1.ProfileService/GetVersionProfile', { datasetId: version.datasetId, version: version.version, pageSize: 100, pageToken });
        pages.push(page);
        pageToken = page.nextPageToken ?? '';
      } while (pageToken);
      const files = pages.flatMap((page) => page.files ?? []);
      if (ctx.output.format === 'json') return ctx.output.json({ ...pages[0], files, nextPageToken: '' });
      ctx.output.line(`profile ${(pages[0].status ?? '').replace('PROFILE_STATUS_', '').toLowerCase()}: ${pages[0].readyFiles ?? 0} of ${pages[0].tabularFiles ?? 0} tabular files ready`);
      const rows = files.flatMap((file) => (file.columns ?? []).map((column) => ({ file, column })));
      ctx.output.table(rows, [
        { header: 'file', value: ({ file }) => file.path },
        { header: 'column', value: ({ column }) => column.name },
        { header: 'type', value: ({ column }) => (column.type ?? '').replace('COLUMN_TYPE_', '').toLowerCase() },
        { header: 'count', value: ({ column }) => column.count },
        { header: 'missing', value: ({ column }) => column.missing },
        { header: 'min', value: ({ column }) => column.min ?? column.minText },
        { header: 'max', value: ({ column }) => column.max ?? column.maxText },
        { header: 'mean', value: ({ column }) => column.mean },
      ]);
    });
};

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** An option's MiB as bytes. */
function mebibytes(value: string): number {
  if (!/^\d{1,7}$/.test(value)) throw new InvalidArgumentError('must be a whole number of MiB');
  return Number(value) * MiB;
}
