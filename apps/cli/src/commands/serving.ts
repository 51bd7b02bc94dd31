import type {
  CreateEndpointResponseJson,
  DeployRevisionResponseJson,
  GetEndpointStatsResponseJson,
  ListEndpointsResponseJson,
  RollbackEndpointResponseJson,
  SetTrafficResponseJson,
} from '@trellis/proto/trellis/serving/v1/endpoint_service_pb';
import type { EndpointJson } from '@trellis/proto/trellis/serving/v1/resources_pb';
import { Option } from 'commander';
import { CliError, EXIT } from '../exit-codes';
import type { CommandGroup } from '../command-group';
import { duration, modelRef, percent, trafficPairs } from '../serving/arguments';
import { endpointNamed, findEndpoint, revisionLabel, splitLine, stateOf } from '../serving/endpoints';
import { inferenceFailure, readInferRequest } from '../serving/predict';
import { STATS_COLUMNS, statsRows } from '../serving/stats-table';
import { waitReady } from '../serving/wait-ready';

const ENDPOINTS = 'trellis.serving.v1.EndpointService';

/** `trellis endpoints`, `trellis deploy`, `trellis traffic`, `trellis predict` and `trellis rollback`. */
export const registerServing: CommandGroup = (program, context) => {
  const endpoints = program.command('endpoints').description("the project's endpoints: their revisions, traffic and statistics");
  endpoints
    .command('list')
    .description("list the project's endpoints with their traffic")
    .addHelpText('after', '\nExample:\n  trellis endpoints list -p churn')
    .action(async () => {
      const ctx = context();
      const projectId = await ctx.projectId();
      const rows: EndpointJson[] = [];
      let pageToken = '';
      do {
        const page = await ctx.client().call<ListEndpointsResponseJson>(`${ENDPOINTS}/ListEndpoints`, { projectId, pageSize: 1000, pageToken });
        rows.push(...(page.endpoints ?? []));
        pageToken = page.nextPageToken ?? '';
      } while (pageToken);
      ctx.output.table(rows, [
        { header: 'name', value: (endpoint) => endpoint.name },
        { header: 'model', value: (endpoint) => servingModel(endpoint) },
        { header: 'ready', value: (endpoint) => readyState(endpoint) },
        { header: 'traffic', value: (endpoint) => splitLine(endpoint) },
        { header: 'id', value: (endpoint) => endpoint.id },
      ]);
    });
  endpoints
    .command('show <endpoint>')
    .description('show an endpoint (by name or id): its traffic split, shadow, revisions and their states, and its rollout policy')
    .addHelpText('after', '\nExample:\n  trellis endpoints show churn\n  trellis endpoints show churn -o json | jq .traffic')
    .action(async (name: string) => {
      const ctx = context();
      const endpoint = await endpointNamed(ctx, name);
      if (ctx.output.format === 'json') return ctx.output.json(endpoint);
      const percents = new Map((endpoint.traffic?.targets ?? []).map((target) => [target.revisionId, target.percent ?? 0]));
      ctx.output.fields([
        ['name', endpoint.name],
        ['id', endpoint.id],
        ['traffic', splitLine(endpoint)],
        ['previous traffic', endpoint.previousTraffic ? splitLine(endpoint, endpoint.previousTraffic) : '(none: nothing to roll back to)'],
        ['rollout policy', endpoint.rolloutPolicy ? `follows ${endpoint.rolloutPolicy.follow}, canary ${endpoint.rolloutPolicy.canaryPercent ?? 0}%` : '(none)'],
        ['latest rollout', endpoint.rollout ? `${(endpoint.rollout.stage ?? '').replace('ROLLOUT_STAGE_', '')} v${endpoint.rollout.modelVersion}: ${endpoint.rollout.reason ?? ''}` : '(none)'],
      ]);
      ctx.output.line('');
      ctx.output.table(endpoint.revisions ?? [], [
        { header: 'revision', value: (revision) => revision.number },
        { header: 'model', value: (revision) => revision.modelRef },
        { header: 'version', value: (revision) => revision.modelVersion },
        { header: 'state', value: (revision) => stateOf(revision) + (revision.stateMessage ? `: ${revision.stateMessage}` : '') },
        { header: 'traffic', value: (revision) => (revision.id === endpoint.traffic?.shadowRevisionId ? 'shadow' : `${percents.get(revision.id) ?? 0}%`) },
        { header: 'id', value: (revision) => revision.id },
      ]);
    });
  endpoints
    .command('stats <endpoint>')
    .description("what an endpoint answered: requests, errors and latency percentiles per bucket of time (every serving replica's counts; the last seconds of other replicas may be missing)")
    .option('--since <time>', 'how far back, such as 30m, 6h or 7d (at most 7d)', '1h')
    .option('--bucket <width>', 'width of each bucket, whole minutes: 1m, 5m, 1h (at most 1440 buckets)', '1m')
    .option('--by-revision', 'a row per revision and bucket instead of the whole endpoint')
    .addHelpText('after', '\nExamples:\n  trellis endpoints stats churn --since 6h --bucket 10m\n  trellis endpoints stats churn --by-revision -o json')
    .action(async (name: string, options: { since: string; bucket: string; byRevision?: boolean }) => {
      const ctx = context();
      const sinceMs = duration(options.since, '--since');
      const bucketMs = duration(options.bucket, '--bucket');
      if (bucketMs < 60_000 || bucketMs % 60_000 !== 0) throw new CliError(`--bucket ${options.bucket} must be whole minutes, at least 1m`, EXIT.usage);
      const endpoint = await endpointNamed(ctx, name);
      const stats = await ctx.client().call<GetEndpointStatsResponseJson>(`${ENDPOINTS}/GetEndpointStats`, {
        endpointId: endpoint.id,
        startTime: new Date(Date.now() - sinceMs).toISOString(),
        bucketWidth: `${bucketMs / 1000}s`,
      });
      ctx.output.table(statsRows(stats, options.byRevision === true), STATS_COLUMNS, stats);
    });

  program
    .command('deploy <endpoint>')
    .description('deploy a registry version to an endpoint (created if the project has none of that name) and wait until it is READY')
    .requiredOption('-m, --model <ref>', 'the version: models:/<name>/<version> or models:/<name>@<alias>')
    .option('--traffic <percent>', 'share of requests the new revision answers (a canary); the others keep theirs in proportion (default 100)')
    .option('--runtime <name>', "runtime instance that runs it (default: the service's only one)")
    .addOption(new Option('--timeout <time>', 'how long to wait for the revision to load, such as 90s or 10m').default('5m'))
    .option('--no-wait', 'return once the revision is recorded, without waiting for it to load')
    .addHelpText('after', '\nExamples:\n  trellis deploy churn --model models:/churn/3\n  trellis deploy churn --model models:/churn@challenger --traffic 10')
    .action(async (name: string, options: { model: string; traffic?: string; runtime?: string; timeout: string; wait: boolean }) => {
      const ctx = context();
      const model = modelRef(options.model);
      const trafficPercent = options.traffic === undefined ? undefined : percent(options.traffic, '--traffic');
      const timeoutMs = duration(options.timeout, '--timeout');
      const existing = await findEndpoint(ctx, name);
      let endpoint: EndpointJson;
      let revisionId: string;
      if (existing) {
        const deployed = await ctx.client().call<DeployRevisionResponseJson>(`${ENDPOINTS}/DeployRevision`, { endpointId: existing.id, model, runtime: options.runtime ?? '', trafficPercent });
        endpoint = deployed.endpoint ?? {};
        revisionId = deployed.revision?.id ?? '';
      } else {
        if (trafficPercent !== undefined && trafficPercent !== 100) {
          throw new CliError(`endpoint "${name.slice(0, 64)}" does not exist yet and its first revision answers all requests: deploy without --traffic first`, EXIT.usage);
        }
        const created = await ctx.client().call<CreateEndpointResponseJson>(`${ENDPOINTS}/CreateEndpoint`, { projectId: await ctx.projectId(), name, model, runtime: options.runtime ?? '' });
        endpoint = created.endpoint ?? {};
        revisionId = endpoint.revisions?.[0]?.id ?? '';
      }
      let revision = endpoint.revisions?.find((candidate) => candidate.id === revisionId);
      if (options.wait) ({ endpoint, revision } = await waitReady(ctx, endpoint.id ?? '', revisionId, timeoutMs));
      const how = existing ? 'deployed to' : 'created endpoint';
      ctx.output.done(`${how} ${endpoint.name}: revision ${revisionLabel(revision, revisionId)} is ${revision ? stateOf(revision) : 'recorded'}; traffic ${splitLine(endpoint)}`, endpoint);
    });

  program
    .command('traffic <endpoint> <split...>')
    .description('set how an endpoint shares its requests: <revision>=<percent> for each revision that answers (by number or id), summing to 100')
    .addHelpText('after', '\nExamples:\n  trellis traffic churn 1=90 2=10\n  trellis traffic churn 2=100')
    .action(async (name: string, split: string[]) => {
      const ctx = context();
      const pairs = trafficPairs(split);
      const endpoint = await endpointNamed(ctx, name);
      const revisions = endpoint.revisions ?? [];
      const targets = pairs.map(({ revision, percent: share }) => {
        const found = revisions.find((candidate) => String(candidate.number) === revision || candidate.id === revision);
        // A revision the split does not name any more is not listed with the endpoint: send the id as given and let the service judge it.
        return { revisionId: found?.id ?? revision, percent: share };
      });
      const { endpoint: changed = {} } = await ctx.client().call<SetTrafficResponseJson>(`${ENDPOINTS}/SetTraffic`, {
        endpointId: endpoint.id,
        traffic: { targets, shadowRevisionId: endpoint.traffic?.shadowRevisionId ?? '' },
      });
      ctx.output.done(`${changed.name}: traffic ${splitLine(changed)}`, changed);
    });

  program
    .command('predict <endpoint>')
    .description('send an Open Inference Protocol request to an endpoint through the gateway and print its outputs')
    .requiredOption('-i, --input <file>', 'the request as JSON, {"inputs": [{"name", "datatype", "shape", "data"}]}; - reads standard input')
    .option('--revision <revision>', 'send it to this revision (number or id), whatever the split says')
    .addHelpText('after', '\nExamples:\n  trellis predict churn --input request.json\n  echo \'{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[0.5,1.5]}]}\' | trellis predict churn --input - -o json')
    .action(async (name: string, options: { input: string; revision?: string }) => {
      const ctx = context();
      const request = readInferRequest(options.input);
      const projectId = await ctx.projectId();
      const headers: Record<string, string> = { 'content-type': 'application/json', 'trellis-project': projectId };
      if (options.revision) headers['trellis-revision'] = options.revision;
      const response = await ctx
        .client()
        .request(`/v2/models/${encodeURIComponent(name)}/infer`, { method: 'POST', headers, body: JSON.stringify(request) })
        .catch((error: unknown) => Promise.reject(inferenceFailure(error, name)));
      const revisionId = response.headers.get('trellis-revision') ?? '';
      const answer = (await response.json()) as { outputs?: Array<{ name: string; datatype: string; shape: number[]; data: unknown[] }>; model_version?: string };
      if (ctx.output.format === 'json') return ctx.output.json(answer);
      ctx.output.table(answer.outputs ?? [], [
        { header: 'output', value: (output) => output.name },
        { header: 'datatype', value: (output) => output.datatype },
        { header: 'shape', value: (output) => `[${output.shape.join(', ')}]` },
        { header: 'data', value: (output) => JSON.stringify(output.data) },
      ]);
      ctx.output.line(`answered by revision ${revisionId} (model version ${answer.model_version ?? '?'})`);
    });

  program
    .command('rollback <endpoint>')
    .description('restore the traffic split an endpoint had before its last change (a second rollback undoes the first)')
    .addHelpText('after', '\nExample:\n  trellis rollback churn')
    .action(async (name: string) => {
      const ctx = context();
      const endpoint = await endpointNamed(ctx, name);
      const { endpoint: restored = {} } = await ctx.client().call<RollbackEndpointResponseJson>(`${ENDPOINTS}/RollbackEndpoint`, { endpointId: endpoint.id });
      ctx.output.done(`rolled back ${restored.name}: now serving ${splitLine(restored)}`, restored);
    });
};

/** The models the split serves, as `churn v3`. */
function servingModel(endpoint: EndpointJson): string {
  const byId = new Map((endpoint.revisions ?? []).map((revision) => [revision.id, revision]));
  const served = (endpoint.traffic?.targets ?? []).map((target) => byId.get(target.revisionId ?? ''));
  return [...new Set(served.map((revision) => (revision ? `${revision.modelName} v${revision.modelVersion}` : '')))].filter(Boolean).join(', ');
}

/** READY when every revision with traffic is, else the states of those that are not. */
function readyState(endpoint: EndpointJson): string {
  const serving = new Set((endpoint.traffic?.targets ?? []).map((target) => target.revisionId));
  const states = (endpoint.revisions ?? []).filter((revision) => serving.has(revision.id)).map(stateOf);
  return states.every((state) => state === 'READY') ? 'READY' : [...new Set(states.filter((state) => state !== 'READY'))].join(', ');
}
