// `npm run start:distributed`: distributed mode on one host, for trying it out. Every service runs in
// its own process (as each would in its own container), against PostgreSQL and NATS JetStream,
// which are started first when they are not running (as `npm test` does, with the same script).
// Each process gets its own ops port, and each learns where the ones before it listen:
// governance, then tracking, then registry, then the gateway. Ctrl-C stops them all.
//
// Settings, all optional (docs/configuration.md has the rest):
//   TRELLIS_DATABASE_URL  PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres);
//                         each service creates its database trellis_<service> there
//   TRELLIS_NATS_URL      NATS with JetStream (default nats://127.0.0.1:4222)
//   TRELLIS_DATA_DIR      where tracking's artifacts and the registry's copies go (default ./.trellis/distributed)
//   TRELLIS_OPS_PORT      the first ops port (default 9464; the next processes take the next ports; 0: any free ones)
//   TRELLIS_<SERVICE>_PORT, TRELLIS_GATEWAY_PORT   gRPC and HTTP ports (defaults 50051, 50053, 50054, 8080)
//   TRELLIS_SERVING_HTTP_PORT   serving's OIP REST API (default 8000; 0: one free at start), which the gateway forwards /v2 to
//   TRELLIS_REGISTRY_CREDENTIAL   the registry's own API key (env:NAME or file:/path); by default
//                         one is issued once into <data dir>/keys/registry.key (npm run service-key)
//   TRELLIS_COMPUTE_CREDENTIAL    the same for the compute service (<data dir>/keys/compute.key)
//   TRELLIS_SERVING_CREDENTIAL    the same for the serving service (<data dir>/keys/serving.key)
//   TRELLIS_MONITORING_CREDENTIAL the same for the monitoring service (<data dir>/keys/monitoring.key)
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureInstalled } from './ensure-installed.mjs';

/** The programs, in start order; each entry says what it needs to know about those before it. */
const PROGRAMS = [
  { name: 'governance', env: () => ({}) },
  { name: 'tracking', env: (up) => ({ TRELLIS_AUTH_JWKS_URL: jwksUrl(up), TRELLIS_GOVERNANCE_ADDRESS: up.governance.grpc }) },
  {
    name: 'registry',
    env: (up) => ({
      TRELLIS_AUTH_JWKS_URL: jwksUrl(up),
      TRELLIS_TRACKING_ADDRESS: up.tracking.grpc,
      TRELLIS_GOVERNANCE_ADDRESS: up.governance.grpc,
      TRELLIS_REGISTRY_CREDENTIAL: serviceCredential('registry'),
    }),
  },
  { name: 'data', env: (up) => ({ TRELLIS_AUTH_JWKS_URL: jwksUrl(up) }) },
  {
    name: 'compute',
    env: (up) => ({
      TRELLIS_AUTH_JWKS_URL: jwksUrl(up),
      TRELLIS_TRACKING_ADDRESS: up.tracking.grpc,
      TRELLIS_GOVERNANCE_ADDRESS: up.governance.grpc,
      TRELLIS_DATA_ADDRESS: up.data.grpc,
      TRELLIS_COMPUTE_CREDENTIAL: serviceCredential('compute'),
      // Jobs log to their runs through the gateway, which starts after compute.
      TRELLIS_COMPUTE_TRACKING_URI: process.env.TRELLIS_COMPUTE_TRACKING_URI ?? `http://127.0.0.1:${settings.gatewayPort}`,
    }),
  },
  {
    name: 'serving',
    env: (up) => ({
      TRELLIS_AUTH_JWKS_URL: jwksUrl(up),
      TRELLIS_GOVERNANCE_ADDRESS: up.governance.grpc,
      TRELLIS_REGISTRY_ADDRESS: up.registry.grpc,
      TRELLIS_TRACKING_ADDRESS: up.tracking.grpc,
      TRELLIS_SERVING_CREDENTIAL: serviceCredential('serving'),
      TRELLIS_SERVING_HTTP_PORT: String(settings.servingHttpPort),
    }),
  },
  {
    name: 'monitoring',
    env: (up) => ({
      TRELLIS_AUTH_JWKS_URL: jwksUrl(up),
      TRELLIS_GOVERNANCE_ADDRESS: up.governance.grpc,
      TRELLIS_SERVING_ADDRESS: up.serving.grpc,
      TRELLIS_REGISTRY_ADDRESS: up.registry.grpc,
      TRELLIS_TRACKING_ADDRESS: up.tracking.grpc,
      TRELLIS_DATA_ADDRESS: up.data.grpc,
      TRELLIS_MONITORING_CREDENTIAL: serviceCredential('monitoring'),
    }),
  },
  {
    name: 'gateway',
    env: (up) => ({
      TRELLIS_GATEWAY_PORT: String(settings.gatewayPort),
      TRELLIS_GATEWAY_UPSTREAM_GOVERNANCE: up.governance.grpc,
      TRELLIS_GATEWAY_UPSTREAM_TRACKING: up.tracking.grpc,
      TRELLIS_GATEWAY_UPSTREAM_REGISTRY: up.registry.grpc,
      TRELLIS_GATEWAY_UPSTREAM_MONITORING: up.monitoring.grpc,
      TRELLIS_GATEWAY_UPSTREAM_SERVING: up.serving.grpc,
      TRELLIS_GATEWAY_UPSTREAM_COMPUTE: up.compute.grpc,
      TRELLIS_GATEWAY_UPSTREAM_DATA: up.data.grpc,
      // Serving's OIP REST API, on its gRPC server's host.
      TRELLIS_GATEWAY_UPSTREAM_INFERENCE: `${up.serving.grpc.slice(0, up.serving.grpc.lastIndexOf(':'))}:${settings.servingHttpPort}`,
    }),
  },
];
const READY_TIMEOUT_MS = 120_000;
const PROGRAM_NAMES = PROGRAMS.map(({ name }) => name);
const API_KEY = /trellis_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/;

const jwksUrl = (up) => `${up.governance.ops}/.well-known/jwks.json`;
const print = (line) => process.stdout.write(`${line}\n`);

/** A URL as it may be printed: never its user name or password. */
function printable(url) {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}

/** Where each service's database is: its own setting, else `trellis_<service>` on the shared server. */
function databases() {
  return PROGRAMS.filter(({ name }) => name !== 'gateway').map(({ name }) => {
    const own = process.env[`TRELLIS_${name.toUpperCase()}_DATABASE_URL`];
    if (own) return printable(own);
    const shared = new URL(settings.databaseUrl);
    shared.pathname = `/trellis_${name}`;
    return printable(shared.toString());
  });
}

/** Ports `fixedPort` has tried so far. */
let fixedPortsTried = 0;

const settings = {
  databaseUrl: process.env.TRELLIS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  natsUrl: process.env.TRELLIS_NATS_URL ?? 'nats://127.0.0.1:4222',
  dataDir: resolve(process.env.TRELLIS_DATA_DIR ?? '.trellis/distributed'),
  firstOpsPort: Number(process.env.TRELLIS_OPS_PORT ?? 9464),
  servingHttpPort: await fixedPort(Number(process.env.TRELLIS_SERVING_HTTP_PORT ?? 8000)),
  gatewayPort: await fixedPort(Number(process.env.TRELLIS_GATEWAY_PORT ?? 8080)),
  /** Service name -> the checkout it runs from, for those `--from` names; the others run from here. */
  from: checkoutsFromArguments(process.argv.slice(2)),
};

/** `--from <service>=<checkout>` pairs; anything else stops the script with what it accepts. */
function checkoutsFromArguments(args) {
  const from = {};
  for (let i = 0; i < args.length; i++) {
    const [service, checkout] = args[i] === '--from' ? (args[++i] ?? '').split('=') : [];
    if (!PROGRAM_NAMES.includes(service) || !checkout) {
      print(`[trellis] usage: npm run start:distributed -- [--from <service>=<built checkout>]...; <service> is one of ${PROGRAM_NAMES.join(', ')}`);
      process.exit(2);
    }
    from[service] = resolve(checkout);
  }
  return from;
}

/**
 * `port`, or for 0 a port free now, chosen below the kernel's range for ports picked by binding 0
 * (ip_local_port_range), so no process started later can be handed it first: the gateway is told
 * serving's REST address before serving starts, and compute the gateway's URL for its jobs.
 */
async function fixedPort(port) {
  if (port !== 0) return port;
  const [firstEphemeral] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  // Scripts running at once start their search at different places; one script never tries a port twice.
  const span = Math.max(firstEphemeral - 10_000, 1000);
  for (let tried = 0; tried < span; tried++) {
    const candidate = 10_000 + ((process.pid * 7 + fixedPortsTried++) % span);
    if (await canListen(candidate)) return candidate;
  }
  throw new Error(`no free port below ${firstEphemeral}`);
}

async function canListen(port) {
  const server = createServer();
  const listening = await new Promise((done) => {
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => done(true));
  });
  if (listening) await new Promise((done) => server.close(done));
  return listening;
}

ensureInstalled();
// `npm test` builds once before its specs (TRELLIS_PREBUILT=1), so specs that start this script
// side by side never rebuild dist/ under each other's running processes.
if (process.env.TRELLIS_PREBUILT !== '1') {
  const { build } = await import('./build.mjs');
  await build();
}
// Starts (or installs) local PostgreSQL and NATS; servers named by the settings are only used.
const services = spawnSync('bash', ['tools/services/ensure-services.sh'], {
  stdio: 'inherit',
  env: { ...process.env, TRELLIS_TEST_PG_URL: process.env.TRELLIS_DATABASE_URL, TRELLIS_TEST_NATS_URL: process.env.TRELLIS_NATS_URL },
});
if (services.status !== 0) process.exit(services.status ?? 1);

/** Program name -> its process, for those started. */
const running = new Map();
let stopping = false;

/** Stops every process (the last started first), then exits with `code`. */
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  for (const { child } of [...running.values()].reverse()) await stop(child, 'SIGTERM');
  process.exit(code);
}
/** Sends `signal` to a process and resolves once it has exited (at once if it already had). */
async function stop(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  await once(child, 'exit');
}
process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));

/** What every program's environment sets. */
function commonEnv() {
  return {
    ...process.env,
    TRELLIS_MODE: 'distributed',
    TRELLIS_DATABASE_URL: settings.databaseUrl,
    TRELLIS_NATS_URL: settings.natsUrl,
    TRELLIS_DATA_DIR: settings.dataDir,
  };
}

/**
 * The credential of a service that runs work as itself: TRELLIS_<SERVICE>_CREDENTIAL when set,
 * else its key file under the data directory, issued once by governance's `service-key` command
 * (governance is up by then, so its database exists).
 */
function serviceCredential(service) {
  const given = process.env[`TRELLIS_${service.toUpperCase()}_CREDENTIAL`];
  if (given) return given;
  const keyFile = join(settings.dataDir, 'keys', `${service}.key`);
  if (!existsSync(keyFile)) {
    const issued = spawnSync(process.execPath, ['apps/governance/dist/main.js', 'service-key', service, '--write', keyFile], { env: commonEnv(), encoding: 'utf8' });
    if (issued.status !== 0) throw new Error(`could not issue the ${service} service's key: ${issued.stderr.trim()}`);
    print(`[trellis] issued the ${service} service's own API key into ${keyFile}`);
  }
  return `file:${keyFile}`;
}

/** The port of `host:port` or `http://host:port`. */
const portOf = (address) => address.slice(address.lastIndexOf(':') + 1);

/** The settings that keep a restarted program on the ports it had, where the others reach it. */
function samePorts(name, before) {
  if (!before) return {};
  const ports = { TRELLIS_OPS_PORT: portOf(before.ops) };
  if (before.grpc) ports[`TRELLIS_${name.toUpperCase()}_PORT`] = portOf(before.grpc);
  if (name === 'gateway') ports.TRELLIS_GATEWAY_PORT = portOf(before.http);
  return ports;
}

/**
 * Starts one program and resolves with where it listens once its /readyz answers 200. Options:
 * `before`, where it listened (a restart keeps those ports); `overrides`, settings of this start
 * only (e.g. an upstream's address through a proxy); `key`, its name among the running processes
 * (the program's name; another for a second process of it); `checkout`, the built checkout it runs
 * from (by default `--from`'s for the program, else this one).
 */
async function start(program, index, up, { before, overrides = {}, key = program.name, checkout = settings.from[program.name] ?? process.cwd() } = {}) {
  const env = {
    ...commonEnv(),
    TRELLIS_OPS_PORT: String(settings.firstOpsPort === 0 ? 0 : settings.firstOpsPort + index),
    TRELLIS_LOG_FORMAT: process.env.TRELLIS_LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json'),
    ...program.env(up),
    ...samePorts(program.name, before),
    ...overrides,
  };
  const child = spawn(process.execPath, [join(checkout, 'apps', program.name, 'dist', 'main.js')], { cwd: checkout, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const entry = { child, adminKey: undefined, stoppedOnPurpose: false };
  running.set(key, entry);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      entry.adminKey ??= API_KEY.exec(line)?.[0];
      print(`[${key}] ${line}`);
    });
  }
  child.once('exit', (code, signal) => {
    if (stopping || entry.stoppedOnPurpose) return;
    print(`[trellis] ${key} stopped (${signal ?? `exit code ${code}`}); its output above says why. Stopping the others.`);
    void stopAll(1);
  });
  const [message] = await once(child, 'message');
  if (message?.type !== 'trellis.started') throw new Error(`${program.name} sent an unexpected message: ${JSON.stringify(message)}`);
  await untilReady(program.name, message.opsAddress);
  return {
    ops: message.opsAddress,
    grpc: message.services[program.name],
    http: message.edges[program.name],
    adminKey: () => entry.adminKey,
  };
}

/** Polls /readyz until it answers 200 (a process is ready when its database and upstreams are). */
async function untilReady(name, opsAddress) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const status = await fetch(`${opsAddress}/readyz`).then((response) => response.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${name} was not ready after ${READY_TIMEOUT_MS / 1000} s; ${opsAddress}/readyz says why`);
    await sleep(100);
  }
}

const up = {};
try {
  for (const [index, program] of PROGRAMS.entries()) up[program.name] = await start(program, index, up);
} catch (error) {
  print(`[trellis] could not start distributed mode: ${error.message}`);
  await stopAll(1);
}

const row = (label, value) => print(`  ${label.padEnd(12)} ${value}`);
const adminKey = up.governance.adminKey();
print('');
print('Trellis (distributed) is running: one process per service on this host.');
for (const program of PROGRAMS) {
  const { grpc, http, ops } = up[program.name];
  row(program.name, `${grpc ? `grpc://${grpc}` : http}   ops ${ops}`);
}
row('data', settings.dataDir);
row('PostgreSQL', databases().join(', '));
row('NATS', printable(settings.natsUrl));
print('');
if (adminKey) print(`The admin's API key, shown this once; store it now:\n\n    ${adminKey}\n`);
else print('The admin key was shown at the first start; `npm run admin-key` issues a new one.');
print(`MLflow clients: MLFLOW_TRACKING_URI=${up.gateway.http} MLFLOW_TRACKING_TOKEN=<the admin's API key>`);
print('Ctrl-C stops every process.');

/**
 * Started by a program with an IPC channel (the end-to-end, version-skew, rollout and chaos
 * suites), the script tells it where everything listens, then acts on one request at a time, each
 * answered `{ id, ok, error? }` once done:
 * - `{ id, type: 'stop', service, signal }`: stops a process (SIGTERM drains, SIGKILL is a crash);
 *   `service` is a program's name or a second process's (below);
 * - `{ id, type: 'start', service, from, env }`: starts a stopped program again on its ports, from
 *   `from` (a built checkout, or null for this one) with `env` over the settings the script gives;
 * - `{ id, type: 'surge', service, from, env }`: starts a second process of the program on ports of
 *   its own, as a rolling update's new replica, and answers its name and where it listens.
 */
if (process.send) {
  // Serving's `http` is its REST API, where the gateway forwards /v2.
  const where = (name) => ({ grpc: up[name].grpc, http: name === 'serving' ? `http://127.0.0.1:${settings.servingHttpPort}` : up[name].http, ops: up[name].ops });
  process.send({ type: 'up', adminKey, processes: Object.fromEntries(PROGRAM_NAMES.map((name) => [name, where(name)])) });
  process.on('message', (request) => {
    control(request).then(
      (answer) => process.send({ id: request.id, ok: true, ...answer }),
      (error) => process.send({ id: request.id, ok: false, error: error.message }),
    );
  });
}

let surges = 0;

async function control({ type, service, signal = 'SIGTERM', from, env }) {
  const entry = running.get(service);
  if (type === 'stop' && entry) {
    entry.stoppedOnPurpose = true;
    await stop(entry.child, signal);
    return {};
  }
  const index = PROGRAM_NAMES.indexOf(service);
  if (index < 0) throw new Error(`there is no program ${service}; the programs are ${PROGRAM_NAMES.join(', ')}`);
  if (type === 'start') {
    if (entry.child.exitCode === null && entry.child.signalCode === null) throw new Error(`${service} is running; stop it first`);
    if (from !== undefined) settings.from[service] = from === null ? undefined : resolve(from);
    up[service] = await start(PROGRAMS[index], index, up, { before: up[service], overrides: env });
    return {};
  }
  if (type === 'surge') {
    const key = `${service}#${++surges}`;
    // TRELLIS_<PROGRAM>_PORT is each service's gRPC port and the gateway's HTTP port.
    const ports = { TRELLIS_OPS_PORT: '0', [`TRELLIS_${service.toUpperCase()}_PORT`]: '0' };
    // Serving's REST API cannot say where it listens: give it a port known here.
    const rest = service === 'serving' ? await fixedPort(0) : undefined;
    if (rest) ports.TRELLIS_SERVING_HTTP_PORT = String(rest);
    const checkout = from ? resolve(from) : from === null ? process.cwd() : undefined;
    const listening = await start(PROGRAMS[index], index, up, { overrides: { ...ports, ...env }, key, ...(checkout ? { checkout } : {}) });
    return { name: key, listening: { grpc: listening.grpc, http: rest ? `http://127.0.0.1:${rest}` : listening.http, ops: listening.ops } };
  }
  throw new Error(`unknown request ${type}`);
}
