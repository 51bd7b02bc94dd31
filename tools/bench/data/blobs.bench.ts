// Uploads and downloads generated blobs (default 1 GiB) through the data service running as its own
// process, as deployed (`apps/data/dist/main.js`, distributed mode: PostgreSQL, NATS, as
// `npm run start:distributed` runs it; the bench builds first), over gRPC (UploadBlob, DownloadBlob)
// and over HTTP through the gateway, also its own process (PUT and GET of
// /v1/data/projects/<p>/blobs/<sha256>), against the raw storage plugin's own put and get of as many
// bytes, in the same run, on the same disk (storage-fs in the work dir). Governance runs in a third
// process; the client is this one. Peak RSS is the kernel's high-water mark (VmHWM in
// /proc/<pid>/status) of the data service's process and of the gateway's, reset before each
// transfer (clear_refs), so each figure is that transfer's peak; the raw baseline runs in a process
// of its own, so its figure is the plugin's alone (plus this bench's TypeScript loader).
//
//   node tools/bench/run.cjs tools/bench/data/blobs.bench.ts [--size-mib 1024] [--runs 3] [--dir <work dir>] [--paths grpc,gateway]
//     [--node-options '<flags of the data service and gateway>'] [--cpu-prof <dir>]
//
// Every transfer moves bytes of its own (another seed), so each upload really writes. Rows are
// medians of the rounds. The work dir (default tmp/bench-data-blobs, which git ignores) is removed at the end.
import 'reflect-metadata';
import { createGrpcClient, type StartedMessage } from '@trellis/platform';
import { noopLogger } from '@trellis/plugin-sdk';
import storageFs from '@trellis/plugin-storage-fs';
import { BlobServiceDesc, IdentityServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { createTestDatabase, testNatsConfig } from '@trellis/testing';
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const MiB = 1024 * 1024;
/** Bytes per upload message and per HTTP write, as a client would send them. */
const CHUNK = 1024 * 1024;
const REPO = resolve(__dirname, '..', '..', '..');
const ADMIN_KEY = `trellis_00000000000000b1_${'o'.repeat(43)}`;
const TARGET_RATIO = 0.8;
const TARGET_PEAK_MB = 150;

type Path = 'raw' | 'grpc' | 'gateway';

/** One direction of a transfer: wall seconds, and the peak RSS (KiB) and CPU seconds of each process in it. */
interface Leg {
  seconds: number;
  /** The serving process: the raw store's own process, or the data service. */
  servicePeakKiB: number;
  serviceCpu: number;
  /** The gateway's, on the gateway path. */
  gatewayPeakKiB: number;
  gatewayCpu: number;
  /** The client's (this process), on the gRPC and gateway paths. */
  clientCpu: number;
}

/** One upload (put) and one download (get) of a blob. */
interface Transfer {
  put: Leg;
  get: Leg;
}

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const sizeMiB = Number(argument('size-mib', '1024'));
const runs = Number(argument('runs', '3'));
const workDir = resolve(argument('dir', join(REPO, 'tmp', 'bench-data-blobs')));
const bytes = sizeMiB * MiB;
/** Where the services write CPU profiles (`--cpu-prof`), if anywhere: to see where a transfer's time goes. */
const profileDir = argument('cpu-prof', '');
/** Node options of the data service's and the gateway's processes (`--max-semi-space-size=64`), to see what V8 settings change. */
const serviceNodeOptions = argument('node-options', '').split(' ').filter(Boolean);
/** Which of the service's paths to time (the raw baseline always runs). */
const paths = argument('paths', 'grpc,gateway').split(',');

/** A 1 MiB block from `seed`, repeated to `bytes`, in CHUNK pieces: the same bytes wherever they are made. */
function* chunks(seed: string): Generator<Buffer> {
  const block = Buffer.alloc(MiB);
  let state = createHash('sha256').update(seed).digest();
  for (let at = 0; at < MiB; at += state.length) {
    state = createHash('sha256').update(state).digest();
    state.copy(block, at);
  }
  for (let sent = 0; sent < bytes; sent += CHUNK) {
    const at = sent % MiB;
    yield block.subarray(at, at + Math.min(CHUNK, bytes - sent, MiB - at));
  }
}

function digestOf(seed: string): string {
  const hash = createHash('sha256');
  for (const chunk of chunks(seed)) hash.update(chunk);
  return hash.digest('hex');
}

function discard(counter: { bytes: number }): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      counter.bytes += chunk.length;
      done();
    },
  });
}

async function timed(work: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** The kernel's peak RSS of a process, in KiB, since it started or since `resetPeak`. */
function peakKiB(pid: number): number {
  const line = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!line) throw new Error(`no VmHWM for process ${pid}`);
  return Number(line[1]);
}

/** Sets the process's peak RSS back to its current RSS. */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** CPU seconds (user and system) a process has used. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Runs `work` and reports the peak RSS and CPU seconds of the data service (`service`) and, if given, the gateway. */
async function legOf(service: number, gateway: number | undefined, work: () => Promise<void>): Promise<Leg> {
  const pids = gateway ? [service, gateway] : [service];
  for (const pid of pids) resetPeak(pid);
  const cpu = pids.map(cpuSeconds);
  const client = process.cpuUsage();
  const seconds = await timed(work);
  const used = process.cpuUsage(client);
  const [serviceCpu, gatewayCpu = 0] = pids.map((pid, i) => cpuSeconds(pid) - cpu[i]);
  const [servicePeakKiB, gatewayPeakKiB = 0] = pids.map(peakKiB);
  return { seconds, servicePeakKiB, serviceCpu, gatewayPeakKiB, gatewayCpu, clientCpu: service === process.pid ? 0 : (used.user + used.system) / 1e6 };
}

/** A Trellis program as built (`apps/<name>/dist/main.js`), in its own process, once it is up. */
async function serve(name: string, env: Record<string, string>): Promise<{ child: ChildProcess; started: StartedMessage }> {
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const execArgv = name === 'governance' ? profile : [...serviceNodeOptions, ...profile];
  const child = fork(join(REPO, 'apps', name, 'dist', 'main.js'), [], { cwd: REPO, execArgv, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const [message] = (await Promise.race([once(child, 'message'), once(child, 'exit').then(([code]) => Promise.reject(new Error(`${name} exited (${code}) before it started`)))])) as [StartedMessage];
  return { child, started: message };
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  for (const child of children.reverse()) {
    if (child.exitCode !== null) continue;
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

/** The raw baseline: storage-fs's own put and get in a process of its own, which answers with its figures. */
async function rawTransfer(dir: string, seed: string): Promise<Transfer> {
  const child = fork(join(__dirname, '..', 'run.cjs'), [__filename, '--raw', dir, '--seed', seed, '--size-mib', String(sizeMiB)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [result] = (await Promise.race([once(child, 'message'), once(child, 'exit').then(([code]) => Promise.reject(new Error(`the raw phase exited (${code})`)))])) as [Transfer];
  await once(child, 'exit');
  return result;
}

/** Runs in the raw baseline's process. */
async function rawChild(dir: string, seed: string): Promise<void> {
  const store = await storageFs.create({ instanceName: 'bench', logger: noopLogger, dataDir: dir, signal: new AbortController().signal }, { root: join(dir, 'raw') });
  const sha256 = digestOf(seed);
  const key = `blobs/sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
  const put = await legOf(process.pid, undefined, async () => {
    const stored = await store.put(key, Readable.from(chunks(seed)));
    if (stored.sha256 !== sha256) throw new Error('raw put stored other bytes');
  });
  const counter = { bytes: 0 };
  const get = await legOf(process.pid, undefined, () => store.get(key).then((body) => pipeline(body, discard(counter))));
  if (counter.bytes !== bytes) throw new Error(`raw get read ${counter.bytes} bytes`);
  await store.delete(key);
  process.send?.({ put, get } satisfies Transfer);
}

function httpPut(url: URL, token: string, seed: string): Promise<void> {
  return new Promise<void>((done, fail) => {
    const req = request(url, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-length': bytes } }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk));
      response.on('end', () => (response.statusCode === 200 ? done() : fail(new Error(`PUT answered ${response.statusCode}: ${body}`))));
    });
    req.on('error', fail);
    pipeline(Readable.from(chunks(seed)), req).catch(fail);
  });
}

function httpGet(url: URL, token: string, counter: { bytes: number }): Promise<void> {
  return new Promise<void>((done, fail) => {
    request(url, { headers: { authorization: `Bearer ${token}` } }, (response) => {
      if (response.statusCode !== 200) return fail(new Error(`GET answered ${response.statusCode}`));
      pipeline(response, discard(counter)).then(done, fail);
    })
      .on('error', fail)
      .end();
  });
}

async function main(): Promise<void> {
  // The services run as deployed, from their build, as `npm run start:distributed` runs them.
  if (spawnSync(process.execPath, ['tools/build.mjs'], { cwd: REPO, stdio: 'inherit' }).status !== 0) throw new Error('the build failed');
  mkdirSync(workDir, { recursive: true });
  const [governanceDb, dataDb] = [await createTestDatabase(), await createTestDatabase()];
  const nats = testNatsConfig();
  const children: ChildProcess[] = [];
  const common = { TRELLIS_MODE: 'distributed', TRELLIS_DATA_DIR: join(workDir, 'service'), TRELLIS_OPS_PORT: '0', TRELLIS_LOG_LEVEL: 'silent', ...nats.env };
  try {
    const governance = await serve('governance', { ...common, TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY, TRELLIS_GOVERNANCE_DATABASE_URL: governanceDb.config.url, TRELLIS_GOVERNANCE_PORT: '0' });
    children.push(governance.child);
    const jwks = `${governance.started.opsAddress}/.well-known/jwks.json`;
    const data = await serve('data', { ...common, TRELLIS_DATA_DATABASE_URL: dataDb.config.url, TRELLIS_DATA_PORT: '0', TRELLIS_AUTH_JWKS_URL: jwks });
    children.push(data.child);
    const gateway = await serve('gateway', {
      ...common,
      TRELLIS_GATEWAY_PORT: '0',
      TRELLIS_GATEWAY_UPSTREAM_GOVERNANCE: governance.started.services.governance,
      TRELLIS_GATEWAY_UPSTREAM_DATA: data.started.services.data,
    });
    children.push(gateway.child);
    const [dataPid, gatewayPid] = [data.child.pid ?? 0, gateway.child.pid ?? 0];

    const tokens = createGrpcClient(TokenServiceDesc, governance.started.services.governance);
    const identity = createGrpcClient(IdentityServiceDesc, governance.started.services.governance, { token: (await tokens.exchangeApiKey({ apiKey: ADMIN_KEY })).token });
    const projectId = (await identity.createProject({ name: 'blobs-bench' })).project?.id ?? '';
    const { token } = await tokens.exchangeApiKey({ apiKey: ADMIN_KEY });
    const blobs = createGrpcClient(BlobServiceDesc, data.started.services.data, { token });
    const idle = { data: peakKiB(dataPid), gateway: peakKiB(gatewayPid) };

    const grpcTransfer = async (seed: string): Promise<Transfer> => {
      const sha256 = digestOf(seed);
      const put = await legOf(dataPid, undefined, async () => {
        const answer = await blobs.uploadBlob(
          (function* () {
            yield { part: { case: 'header' as const, value: { projectId, sha256, size: BigInt(bytes) } } };
            for (const chunk of chunks(seed)) yield { part: { case: 'chunk' as const, value: chunk } };
          })(),
        );
        if (answer.alreadyStored) throw new Error('the blob was there before the upload');
      });
      let read = 0;
      const get = await legOf(dataPid, undefined, async () => {
        for await (const { chunk } of blobs.downloadBlob({ projectId, sha256 })) read += chunk.length;
      });
      if (read !== bytes) throw new Error(`gRPC download read ${read} bytes`);
      return { put, get };
    };

    const gatewayTransfer = async (seed: string): Promise<Transfer> => {
      const url = new URL(`${gateway.started.edges.gateway}/v1/data/projects/${projectId}/blobs/${digestOf(seed)}`);
      const put = await legOf(dataPid, gatewayPid, () => httpPut(url, ADMIN_KEY, seed));
      const counter = { bytes: 0 };
      const get = await legOf(dataPid, gatewayPid, () => httpGet(url, ADMIN_KEY, counter));
      if (counter.bytes !== bytes) throw new Error(`gateway download read ${counter.bytes} bytes`);
      return { put, get };
    };

    const load = loadavg()[0];
    const results: Record<Path, Transfer[]> = { raw: [], grpc: [], gateway: [] };
    for (let round = 0; round < runs; round++) {
      results.raw.push(await rawTransfer(join(workDir, 'raw'), `raw-${round}`));
      if (paths.includes('grpc')) results.grpc.push(await grpcTransfer(`grpc-${round}`));
      if (paths.includes('gateway')) results.gateway.push(await gatewayTransfer(`gateway-${round}`));
      // The service's copies stay in its store (it holds them); their files go, to keep the disk free.
      rmSync(join(common.TRELLIS_DATA_DIR, 'artifacts', 'objects', 'blobs'), { recursive: true, force: true });
    }
    print(results, idle, load);
    for (const client of [tokens, identity, blobs]) client.close();
  } finally {
    await stopAll(children);
    await nats.cleanup();
    for (const database of [governanceDb, dataDb]) await database.drop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mb = (kib: number) => (kib / 1024).toFixed(0);

function print(results: Record<Path, Transfer[]>, idle: { data: number; gateway: number }, load: number): void {
  const labels: Record<Path, string> = { raw: 'storage-fs (raw)', grpc: 'gRPC', gateway: 'gateway HTTP' };
  const of = (path: Path, direction: keyof Transfer, pick: (leg: Leg) => number) => median(results[path].map((transfer) => pick(transfer[direction])));
  console.log(`blobs: ${sizeMiB} MiB per transfer, ${runs} round(s), medians; node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, load average ${load.toFixed(1)} at start`);
  console.log(`idle RSS before the first transfer: data service ${mb(idle.data)} MiB, gateway ${mb(idle.gateway)} MiB; their node options: ${serviceNodeOptions.join(' ') || 'none'}`);
  console.log('path               way  MiB/s  x raw  service peak MiB  gateway peak MiB  CPU s: service  gateway  client');
  for (const path of (['raw', 'grpc', 'gateway'] as const).filter((path) => results[path].length > 0)) {
    for (const direction of ['put', 'get'] as const) {
      const seconds = of(path, direction, (leg) => leg.seconds);
      const ratio = of('raw', direction, (leg) => leg.seconds) / seconds;
      const cpu = (pick: (leg: Leg) => number) => of(path, direction, pick).toFixed(1).padStart(7);
      console.log(
        `${labels[path].padEnd(18)} ${direction}  ${(sizeMiB / seconds).toFixed(0).padStart(5)}  ${ratio.toFixed(2).padStart(5)}  ${mb(of(path, direction, (leg) => leg.servicePeakKiB)).padStart(16)}  ${(path === 'gateway' ? mb(of(path, direction, (leg) => leg.gatewayPeakKiB)) : '').padStart(16)}  ${cpu((leg) => leg.serviceCpu).padStart(14)}  ${cpu((leg) => leg.gatewayCpu)}  ${cpu((leg) => leg.clientCpu)}`,
      );
    }
  }
  for (const path of (['grpc', 'gateway'] as const).filter((path) => results[path].length > 0)) {
    const ratios = (['put', 'get'] as const).map((direction) => of('raw', direction, (leg) => leg.seconds) / of(path, direction, (leg) => leg.seconds));
    const peak = Math.max(...results[path].flatMap((transfer) => [transfer.put, transfer.get]).flatMap((leg) => [leg.servicePeakKiB, leg.gatewayPeakKiB])) * 1024;
    const speed = ratios.every((ratio) => ratio >= TARGET_RATIO) ? 'met' : 'NOT met';
    const memory = peak < TARGET_PEAK_MB * 1e6 ? 'met' : 'NOT met';
    console.log(`${labels[path]}: at least ${TARGET_RATIO}x raw both ways: ${speed}; highest peak RSS ${(peak / 1e6).toFixed(0)} MB, under ${TARGET_PEAK_MB} MB: ${memory}`);
  }
}

const rawDir = argument('raw', '');
const failed = (error: unknown) => {
  console.error(error);
  process.exit(1);
};
if (rawDir) rawChild(rawDir, argument('seed', '')).then(() => process.exit(0), failed);
else main().catch(failed);
