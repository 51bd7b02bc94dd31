// The registry on PostgreSQL, through gRPC with auth on, in one run: a fresh database seeded (with
// unnest SQL) with BENCH_MODELS models (default 10,000) across 10 projects, 5 versions each, a tag
// and a `prod` alias on each; a client bound to all 10 projects calls
//   (1) GetVersionByAlias of one model after another, against a baseline of the cheapest
//       authenticated call of the same service, GetModel (one model, no tags beyond one);
//   (1b) the same two calls through the gateway's JSON route for each RPC;
//   (2) SearchModels, first page of 100 (no filter; and name LIKE + tag), against a baseline of the
//       same page written by hand as one SQL query (tags and aliases aggregated) sent with plain `pg`.
// Calls are sequential; rounds alternate figure and baseline; p50 and p99 are medians over rounds.
// Run: node tools/bench/run.cjs tools/bench/registry/registry.bench.ts
import 'reflect-metadata';
import { gatewayEdge } from '@trellis/gateway';
import { TestPlatform } from '@trellis/platform/testing';
import storageFs from '@trellis/plugin-storage-fs';
import { RegistryServiceDesc } from '@trellis/proto';
import { registryService } from '@trellis/registry';
import { createTestDatabase, testNatsConfig } from '@trellis/testing';
import { Agent, request } from 'node:http';
import { cpus, loadavg, totalmem } from 'node:os';
import { Client } from 'pg';

const MODELS = Number(process.env.BENCH_MODELS ?? 10_000);
const VERSIONS = 5;
const PROJECTS = Array.from({ length: 10 }, (_, i) => `bench-${i}`);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const SEARCHES = Number(process.env.BENCH_SEARCHES ?? 100);
const ALIAS_TARGET_MS = 2;
const SEARCH_TARGET_MS = 50;

const nameOf = (i: number) => `model-${String(i).padStart(5, '0')}`;

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
const median = (values: number[]) => quantile(values, 0.5);
const ms = (value: number) => `${value.toFixed(2)} ms`.padStart(10);

/** Latencies in milliseconds of `count` sequential calls of `call(i)`. */
async function latencies(count: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    await call(i);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times;
}

/** p50 and p99 of each round, for figure and baseline, rounds alternating. */
async function compare(count: number, figure: (i: number) => Promise<unknown>, baseline: (i: number) => Promise<unknown>) {
  await latencies(Math.min(count, 200), figure);
  await latencies(Math.min(count, 200), baseline);
  const rounds = { figure: { p50: [] as number[], p99: [] as number[] }, baseline: { p50: [] as number[], p99: [] as number[] } };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [side, call] of [['figure', figure], ['baseline', baseline]] as const) {
      const times = await latencies(count, call);
      rounds[side].p50.push(quantile(times, 0.5));
      rounds[side].p99.push(quantile(times, 0.99));
    }
  }
  return { figure: { p50: median(rounds.figure.p50), p99: median(rounds.figure.p99) }, baseline: { p50: median(rounds.baseline.p50), p99: median(rounds.baseline.p99) } };
}

async function seed(pg: Client): Promise<void> {
  const now = Date.now();
  const names = Array.from({ length: MODELS }, (_, i) => nameOf(i));
  const projects = names.map((_, i) => PROJECTS[i % PROJECTS.length]);
  await pg.query(
    `INSERT INTO registered_models (project_id, name, description, protected_aliases, latest_version, creator_id, created_at, updated_at)
     SELECT project, name, 'a benchmark model', '[]', $3, 'bench', $4, $4 FROM unnest($1::text[], $2::text[]) AS seed(project, name)`,
    [projects, names, VERSIONS, now],
  );
  await pg.query(
    `INSERT INTO model_versions (model_id, version, source, run_id, status, status_message, format, signature, description, storage_uri, artifact_store, lineage, creator_id, created_at, updated_at)
     SELECT m.id, v, 's3://bench/' || m.name || '/' || v, NULL, 'READY', '', 'onnx', NULL, '', 's3://bench/' || m.name || '/' || v, NULL, NULL, 'bench', $2, $2
     FROM registered_models m CROSS JOIN unnest($1::int[]) AS v`,
    [Array.from({ length: VERSIONS }, (_, i) => i + 1), now],
  );
  await pg.query(`INSERT INTO model_tags (model_id, key, value) SELECT id, 'team', 'team-' || (id % 10) FROM registered_models`);
  await pg.query(`INSERT INTO model_aliases (model_id, alias, version) SELECT id, 'prod', $1 FROM registered_models`, [VERSIONS]);
  await pg.query(
    `INSERT INTO alias_history (model_id, project_id, alias, from_version, to_version, actor_id, time_ms, approval_id)
     SELECT id, project_id, 'prod', 0, $1, 'bench', $2, '' FROM registered_models`,
    [VERSIONS, now],
  );
  await pg.query('ANALYZE');
}

/** The first page as someone would write it by hand: one query, tags and aliases aggregated. */
const BASELINE_SEARCH = `
  SELECT m.id, m.project_id, m.name, m.description, m.protected_aliases, m.latest_version, m.creator_id, m.created_at, m.updated_at,
    (SELECT json_agg(json_build_object('key', t.key, 'value', t.value) ORDER BY t.key) FROM model_tags t WHERE t.model_id = m.id) AS tags,
    (SELECT json_agg(json_build_object('alias', a.alias, 'version', a.version) ORDER BY a.alias) FROM model_aliases a WHERE a.model_id = m.id) AS aliases
  FROM registered_models m
  WHERE m.project_id = ANY($1) AND ($2 = '' OR m.name LIKE $2)
    AND ($3 = '' OR EXISTS (SELECT 1 FROM model_tags t WHERE t.model_id = m.id AND t.key = $3 AND t.value = $4))
  ORDER BY m.name, m.project_id LIMIT 101`;

async function main(): Promise<void> {
  const database = await createTestDatabase();
  const nats = testNatsConfig();
  const platform = await TestPlatform.start(
    {
      TRELLIS_MODE: 'distributed',
      TRELLIS_REGISTRY_DATABASE_URL: database.config.url,
      TRELLIS_REGISTRY_PORT: '0',
      ...nats.env,
    },
    { plugins: [storageFs] },
  );
  const pg = new Client({ connectionString: database.config.url });
  const stops: Array<() => Promise<void>> = [];
  try {
    const registry = await platform.startService(registryService);
    await pg.connect();
    const seeding = Date.now();
    await seed(pg);
    const seeded = Date.now() - seeding;
    const client = await platform.client(RegistryServiceDesc, registry.grpcAddress, { sub: 'bench', bindings: PROJECTS.map((project) => ({ project, role: 'viewer' as const })) });
    const model = (i: number) => ({ projectId: PROJECTS[(i * 7919) % MODELS % PROJECTS.length], modelName: nameOf((i * 7919) % MODELS) });
    const check = await client.getVersionByAlias({ ...model(1), alias: 'prod' });
    if (check.version?.version !== BigInt(VERSIONS)) throw new Error('the seeded alias does not resolve');

    const alias = await compare(
      CALLS,
      (i) => client.getVersionByAlias({ ...model(i), alias: 'prod' }),
      (i) => client.getModel(model(i)),
    );
    // The same two calls through the gateway's JSON route for each RPC (keep-alive HTTP, the token forwarded as it is).
    const gateway = await gatewayEdge.start({ runtime: platform.runtime, upstreams: { registry: registry.grpcAddress } });
    stops.push(() => gateway.close());
    const token = await platform.keys.mint({ sub: 'bench', bindings: PROJECTS.map((project) => ({ project, role: 'viewer' as const })) });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = (method: string, body: unknown) =>
      new Promise<void>((resolve, reject) => {
        const payload = Buffer.from(JSON.stringify(body));
        const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': payload.length };
        const sent = request(new URL(`/v1/trellis.registry.v1.RegistryService/${method}`, gateway.address), { method: 'POST', agent, headers }, (response) => {
          response.resume();
          response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`${method} answered ${response.statusCode}`))));
        });
        sent.on('error', reject);
        sent.end(payload);
      });
    const viaGateway = await compare(
      CALLS,
      (i) => post('GetVersionByAlias', { ...model(i), alias: 'prod' }),
      (i) => post('GetModel', model(i)),
    );
    const cases = [
      { label: 'no filter', nameLike: '', tag: undefined },
      { label: "name LIKE 'model-0%' and tag team=team-3", nameLike: 'model-0%', tag: { key: 'team', value: 'team-3' } },
    ];
    const searches = [];
    for (const benchCase of cases) {
      const viaGrpc = (await client.searchModels({ nameLike: benchCase.nameLike, tags: benchCase.tag ? [benchCase.tag] : [] })).models.map((m) => m.name);
      const byHand = (await pg.query(BASELINE_SEARCH, [PROJECTS, benchCase.nameLike, benchCase.tag?.key ?? '', benchCase.tag?.value ?? ''])).rows.slice(0, 100).map((row: { name: string }) => row.name);
      if (JSON.stringify(viaGrpc) !== JSON.stringify(byHand)) throw new Error(`SearchModels (${benchCase.label}) and the hand-written query disagree`);
      const figures = await compare(
        SEARCHES,
        () => client.searchModels({ nameLike: benchCase.nameLike, tags: benchCase.tag ? [benchCase.tag] : [] }),
        () => pg.query(BASELINE_SEARCH, [PROJECTS, benchCase.nameLike, benchCase.tag?.key ?? '', benchCase.tag?.value ?? '']),
      );
      searches.push({ label: benchCase.label, figures });
    }

    const [load] = loadavg();
    console.log(
      `machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load ${load.toFixed(1)}; PostgreSQL; ${MODELS} models x ${VERSIONS} versions in ${PROJECTS.length} projects (seeded in ${seeded} ms); ${ROUNDS} rounds, medians of each round's p50 and p99`,
    );
    console.log(`GetVersionByAlias, ${CALLS} sequential calls a round, gRPC with a verified token:`);
    console.log(`  baseline GetModel (same service, auth on)   p50 ${ms(alias.baseline.p50)}  p99 ${ms(alias.baseline.p99)}`);
    console.log(
      `  GetVersionByAlias                           p50 ${ms(alias.figure.p50)}  p99 ${ms(alias.figure.p99)}  p50 target < ${ALIAS_TARGET_MS} ms: ${alias.figure.p50 < ALIAS_TARGET_MS ? 'met' : 'NOT met'}`,
    );
    console.log(`GetVersionByAlias through the gateway (POST /v1/trellis.registry.v1.RegistryService/GetVersionByAlias, JSON):`);
    console.log(`  baseline GetModel through the gateway      p50 ${ms(viaGateway.baseline.p50)}  p99 ${ms(viaGateway.baseline.p99)}`);
    console.log(`  GetVersionByAlias                           p50 ${ms(viaGateway.figure.p50)}  p99 ${ms(viaGateway.figure.p99)}`);
    console.log(`SearchModels first page of 100, ${SEARCHES} sequential calls a round, across the caller's ${PROJECTS.length} projects:`);
    for (const { label, figures } of searches) {
      console.log(`  ${label}`);
      console.log(`    baseline (hand-written SQL, pg)           p50 ${ms(figures.baseline.p50)}  p99 ${ms(figures.baseline.p99)}`);
      console.log(
        `    gRPC SearchModels                         p50 ${ms(figures.figure.p50)}  p99 ${ms(figures.figure.p99)}  target < ${SEARCH_TARGET_MS} ms: ${figures.figure.p50 < SEARCH_TARGET_MS ? 'met' : 'NOT met'}`,
      );
    }
  } finally {
    for (const stop of stops) await stop();
    await pg.end().catch(() => undefined);
    await platform.stop();
    await nats.cleanup();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
