import type { CreateExperimentResponseJson, SearchExperimentsResponseJson } from '@trellis/proto/trellis/tracking/v1/experiment_service_pb';
import type { ListArtifactsResponseJson } from '@trellis/proto/trellis/tracking/v1/artifact_service_pb';
import type { GetSampledMetricSeriesResponseJson } from '@trellis/proto/trellis/tracking/v1/metric_service_pb';
import type { ExperimentJson, FileInfoJson, RunJson } from '@trellis/proto/trellis/tracking/v1/resources_pb';
import type { GetRunResponseJson, SearchRunsResponseJson } from '@trellis/proto/trellis/tracking/v1/run_service_pb';
import { basename } from 'node:path';
import { CliError, EXIT } from '../exit-codes';
import type { Output, TableColumn } from '../output';
import type { CommandGroup } from '../command-group';
import { downloadArtifact } from '../tracking/artifact-download';
import { positiveInteger } from '../tracking/arguments';
import { resolveExperiment } from '../tracking/experiments';
import { compareRuns } from '../tracking/run-comparison';
import { numberOf, sparkline, summarize } from '../tracking/sparkline';

/** How many of a run's latest metrics `runs list` shows beside it (-o json has them all). */
const LISTED_METRICS = 4;

/** `trellis experiments` and `trellis runs`: list, show, compare, and a metric as a sparkline. */
export const registerRuns: CommandGroup = (program, context) => {
  const experiments = program.command('experiments').description("the project's experiments, the groups its runs belong to");
  experiments
    .command('list')
    .description("list the project's experiments, newest first")
    .option('--deleted', 'list deleted experiments instead of active ones')
    .addHelpText('after', '\nExample:\n  trellis experiments list --project churn')
    .action(async (options: { deleted?: boolean }) => {
      const ctx = context();
      const projectId = await ctx.projectId();
      const rows: ExperimentJson[] = [];
      let pageToken = '';
      do {
        const page = await ctx.client().call<SearchExperimentsResponseJson>('trellis.tracking.v1.ExperimentService/SearchExperiments', {
          projectIds: [projectId],
          viewType: options.deleted ? 'VIEW_TYPE_DELETED_ONLY' : 'VIEW_TYPE_ACTIVE_ONLY',
          pageSize: 1000,
          pageToken,
        });
        rows.push(...(page.experiments ?? []));
        pageToken = page.nextPageToken ?? '';
      } while (pageToken);
      ctx.output.table(rows, [
        { header: 'id', value: (experiment) => experiment.id },
        { header: 'name', value: (experiment) => experiment.name },
        { header: 'created', value: (experiment) => experiment.createTime },
        { header: 'updated', value: (experiment) => experiment.updateTime },
      ]);
    });
  experiments
    .command('create <name>')
    .description('create an experiment in the project')
    .addHelpText('after', '\nExample:\n  trellis experiments create churn-baseline --project churn')
    .action(async (name: string) => {
      const ctx = context();
      const projectId = await ctx.projectId();
      const { experiment } = await ctx.client().call<CreateExperimentResponseJson>('trellis.tracking.v1.ExperimentService/CreateExperiment', { projectId, name });
      ctx.output.done(`Created experiment ${experiment?.name} (${experiment?.id}).`, experiment);
    });
  experiments
    .command('show <name-or-id>')
    .description('show an experiment: its id, artifact location and tags')
    .addHelpText('after', '\nExample:\n  trellis experiments show churn-baseline')
    .action(async (nameOrId: string) => {
      const ctx = context();
      const experiment = await resolveExperiment(ctx, nameOrId);
      ctx.output.fields(
        [
          ['name', experiment.name],
          ['id', experiment.id],
          ['stage', (experiment.lifecycleStage ?? '').replace(/^LIFECYCLE_STAGE_/, '').toLowerCase()],
          ['artifacts', experiment.artifactLocation],
          ['created', experiment.createTime],
          ['updated', experiment.updateTime],
          ...(experiment.tags ?? []).map((tag): [string, string | undefined] => [`tag ${tag.key}`, tag.value]),
        ],
        experiment,
      );
    });

  const runs = program.command('runs').description("an experiment's runs: search, show, compare, and plot a metric");
  runs
    .command('list')
    .description("search an experiment's runs with MLflow's filter grammar")
    .requiredOption('-e, --experiment <name-or-id>', 'the experiment')
    .option('-f, --filter <filter>', `MLflow filter, e.g. "metrics.loss < 0.5 and params.model = 'tree'"`)
    .option('--order-by <clause>', 'order, e.g. "metrics.loss ASC" (repeat for ties; default: newest first)', collect, [])
    .option('--max <n>', 'the most runs to list', '100')
    .option('--deleted', 'list deleted runs instead of active ones')
    .addHelpText('after', `\nExamples:\n  trellis runs list --experiment churn --filter "metrics.loss < 0.3" --order-by "metrics.loss ASC" --max 10\n  trellis runs list -e churn -f "params.model = 'tree'" -o json`)
    .action(async (options: { experiment: string; filter?: string; orderBy: string[]; max: string; deleted?: boolean }) => {
      const max = positiveInteger(options.max, '--max');
      const ctx = context();
      const experiment = await resolveExperiment(ctx, options.experiment);
      const found: RunJson[] = [];
      let pageToken = '';
      do {
        const page = await ctx.client().call<SearchRunsResponseJson>('trellis.tracking.v1.RunService/SearchRuns', {
          experimentIds: [experiment.id],
          filter: options.filter ?? '',
          orderBy: options.orderBy,
          viewType: options.deleted ? 'VIEW_TYPE_DELETED_ONLY' : 'VIEW_TYPE_ACTIVE_ONLY',
          pageSize: Math.min(max - found.length, 1000),
          pageToken,
        });
        found.push(...(page.runs ?? []));
        pageToken = page.nextPageToken ?? '';
      } while (pageToken && found.length < max);
      ctx.output.table(found, [
        { header: 'run id', value: (run) => run.info?.id },
        { header: 'name', value: (run) => run.info?.runName },
        { header: 'status', value: (run) => statusOf(run) },
        { header: 'started', value: (run) => run.info?.startTime },
        { header: 'metrics', value: (run) => metricsSummary(run) },
      ]);
    });
  runs
    .command('show <run-id>')
    .description('show a run: what it is, its params, latest metrics, tags and dataset inputs')
    .addHelpText('after', '\nExample:\n  trellis runs show 5f0c6a1e9b2d4c7f8a3e1d2c4b5a6f70')
    .action(async (runId: string) => {
      const ctx = context();
      const { run = {} } = await ctx.client().call<GetRunResponseJson>('trellis.tracking.v1.RunService/GetRun', { runId });
      if (ctx.output.format === 'json') return ctx.output.json(run);
      const { info = {}, data = {}, inputs = {} } = run;
      ctx.output.fields([
        ['run id', info.id],
        ['name', info.runName],
        ['status', statusOf(run)],
        ['experiment', info.experimentId],
        ['user', info.userId],
        ['started', info.startTime],
        ['ended', info.endTime],
        ['artifacts', info.artifactUri],
        ['parent run', info.parentRunId],
      ]);
      section(ctx.output, 'Params', data.params ?? [], [
        { header: 'key', value: (param) => param.key },
        { header: 'value', value: (param) => param.value },
      ]);
      section(ctx.output, 'Metrics (latest)', data.metrics ?? [], [
        { header: 'key', value: (metric) => metric.key },
        { header: 'value', value: (metric) => metric.value },
        { header: 'step', value: (metric) => metric.step ?? '0' },
      ]);
      section(ctx.output, 'Tags', data.tags ?? [], [
        { header: 'key', value: (tag) => tag.key },
        { header: 'value', value: (tag) => tag.value },
      ]);
      section(ctx.output, 'Dataset inputs', inputs.datasetInputs ?? [], [
        { header: 'name', value: (input) => input.dataset?.name },
        { header: 'source', value: (input) => input.dataset?.source },
        { header: 'digest', value: (input) => input.dataset?.digest },
        { header: 'context', value: (input) => input.tags?.find((tag) => tag.key === 'mlflow.data.context')?.value },
      ]);
    });
  runs
    .command('compare <run-ids...>')
    .description('compare runs side by side: their params and latest metrics, differing rows marked *')
    .option('--diff', 'show only the rows where the runs differ')
    .addHelpText('after', '\nExample:\n  trellis runs compare 5f0c6a1e... 8d2b7c3f... --diff')
    .action(async (runIds: string[], options: { diff?: boolean }) => {
      if (runIds.length < 2) throw new CliError('compare needs at least two run ids: `trellis runs compare <run-id> <run-id>...`', EXIT.usage);
      const ctx = context();
      const compared = await Promise.all(
        runIds.map(async (runId) => (await ctx.client().call<GetRunResponseJson>('trellis.tracking.v1.RunService/GetRun', { runId })).run ?? {}),
      );
      const rows = compareRuns(compared).filter((row) => row.differs || !options.diff);
      if (ctx.output.format === 'json') return ctx.output.json({ runs: compared, rows });
      ctx.output.table(rows, [
        { header: ' ', value: (row) => (row.differs ? '*' : '') },
        { header: 'key', value: (row) => row.key },
        ...compared.map((run, index) => ({ header: run.info?.runName || (run.info?.id ?? '').slice(0, 8), value: (row: (typeof rows)[number]) => row.values[index] ?? '-' })),
      ]);
    });
  runs
    .command('metric <run-id> <key>')
    .description("plot a run's metric as a sparkline, with its min, max and last value")
    .option('-w, --width <n>', 'characters of the sparkline (default: fits the terminal)')
    .addHelpText('after', '\nExamples:\n  trellis runs metric 5f0c6a1e... loss\n  trellis runs metric 5f0c6a1e... loss -o json   # the sampled points')
    .action(async (runId: string, key: string, options: { width?: string }) => {
      const width = options.width ? positiveInteger(options.width, '--width') : Math.min(Math.max((process.stdout.columns ?? 100) - key.length - 60, 10), 400);
      const ctx = context();
      const { series = [] } = await ctx.client().call<GetSampledMetricSeriesResponseJson>('trellis.tracking.v1.MetricService/GetSampledMetricSeries', {
        runIds: [runId],
        key,
        maxPoints: Math.max(width, 2),
      });
      const columns = series[0]?.points;
      if (!columns?.values?.length) throw new CliError(`run ${runId.slice(0, 64)} has no metric "${key.slice(0, 64)}": \`trellis runs show ${runId.slice(0, 64)}\` lists its metrics`, EXIT.notFound);
      const values = columns.values.map(numberOf);
      if (ctx.output.format === 'json') {
        const points = values.map((_, index) => ({ step: columns.steps?.[index], timestampMs: columns.timestampsMs?.[index], value: columns.values?.[index] }));
        return ctx.output.json({ runId, key, totalPoints: series[0].totalPoints, points });
      }
      const { min, max, last } = summarize(values);
      ctx.output.line(`${key}  ${sparkline(values, width)}  min ${number(min)}  max ${number(max)}  last ${number(last)}  (${series[0].totalPoints} points)`);
    });
  runs
    .command('artifacts <run-id> [path]')
    .description("list a run's artifacts, at its root or in a folder of them")
    .addHelpText('after', '\nExamples:\n  trellis runs artifacts 5f0c6a1e...\n  trellis runs artifacts 5f0c6a1e... model -o json')
    .action(async (runId: string, path: string | undefined) => {
      const ctx = context();
      const files: FileInfoJson[] = [];
      let pageToken = '';
      do {
        const page = await ctx.client().call<ListArtifactsResponseJson>('trellis.tracking.v1.ArtifactService/ListArtifacts', { runId, path: path ?? '', pageSize: 1000, pageToken });
        files.push(...(page.files ?? []));
        pageToken = page.nextPageToken ?? '';
      } while (pageToken);
      ctx.output.table(files, [
        { header: 'path', value: (file) => (file.isDir ? `${file.path}/` : file.path) },
        { header: 'bytes', value: (file) => (file.isDir ? '' : (file.sizeBytes ?? '0')) },
      ]);
    });
  runs
    .command('download <run-id> <path>')
    .description("download one of a run's artifact files (streamed: any size)")
    .option('--to <file>', 'where to write it (default: its name, in this folder; - for standard output)')
    .addHelpText('after', '\nExamples:\n  trellis runs download 5f0c6a1e... model/model.onnx\n  trellis runs download 5f0c6a1e... metrics.txt --to - | head')
    .action(async (runId: string, path: string, options: { to?: string }) => {
      const ctx = context();
      const target = options.to ?? basename(path);
      if (target === '' || target === '.' || target === '..') throw new CliError(`"${path.slice(0, 64)}" names no file: pass --to <file>`, EXIT.usage);
      const bytes = await downloadArtifact(ctx.client(), runId, path, target);
      if (target !== '-') ctx.output.done(`Wrote ${target} (${bytes} bytes).`, { runId, path, file: target, bytes });
    });
};

/** Commander's way to let an option repeat: each value appended. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** RUN_STATUS_FINISHED -> finished, with "deleted" when it is. */
function statusOf(run: RunJson): string {
  const status = (run.info?.status ?? '').replace(/^RUN_STATUS_/, '').toLowerCase();
  return run.info?.lifecycleStage === 'LIFECYCLE_STAGE_DELETED' ? `${status} (deleted)` : status;
}

/** The first few latest metrics of a run as key=value, by key. */
function metricsSummary(run: RunJson): string {
  const metrics = [...(run.data?.metrics ?? [])].sort((a, b) => ((a.key ?? '') < (b.key ?? '') ? -1 : 1));
  const shown = metrics.slice(0, LISTED_METRICS).map((metric) => `${metric.key}=${number(numberOf(metric.value ?? 0))}`);
  return metrics.length > LISTED_METRICS ? `${shown.join(' ')} …` : shown.join(' ');
}

/** A value with at most 6 significant digits; "-" when there is none. */
function number(value: number | undefined): string {
  if (value === undefined) return '-';
  return Number.isFinite(value) ? String(Number(value.toPrecision(6))) : String(value);
}

/** A titled table under a run's fields. */
function section<Row>(output: Output, title: string, rows: readonly Row[], columns: ReadonlyArray<TableColumn<Row>>): void {
  output.line('');
  output.line(`${title}:`);
  output.table(rows, columns);
}
