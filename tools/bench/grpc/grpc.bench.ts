// Unary round trip through the service kit (its grpc-js transport, auth guard with a real EdDSA
// token and a permission check, metrics, error answers) against a bare @grpc/grpc-js server
// answering the same message with the same protobuf-es serializers, in one run. Prints p50/p99 of
// sequential calls and throughput sequentially and at 64 calls in flight, and the kit/bare ratios.
import 'reflect-metadata';
import {
  createGrpcClient,
  defineService,
  loadConfig,
  PlatformRuntime,
  startService,
} from '@trellis/platform';
import { TestKeySet } from '@trellis/platform/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WidgetService } from '../../../libs/platform/test/gen/trellis/kittest/v1/widget_service_pb';
import { startBareWidgetServer, widgetBenchModule } from '../kit/widget-bench-servers';

const SEQUENTIAL = Number(process.env.BENCH_CALLS ?? 5000);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT_CALLS ?? 20000);
const IN_FLIGHT = 64;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 60);
const BLOCK_CALLS = 300;

type Client = ReturnType<typeof createGrpcClient<(typeof WidgetService)['method']>>;

async function sequential(client: Client): Promise<{ p50: number; p99: number; perSecond: number }> {
  const latencies: number[] = [];
  const started = process.hrtime.bigint();
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t = process.hrtime.bigint();
    await client.getWidget({ id: 'w1' });
    latencies.push(Number(process.hrtime.bigint() - t) / 1e3);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return { p50: latencies[Math.floor(latencies.length * 0.5)], p99: latencies[Math.floor(latencies.length * 0.99)], perSecond: SEQUENTIAL / seconds };
}

async function concurrent(client: Client): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < CONCURRENT) await client.getWidget({ id: 'w1' });
    }),
  );
  return CONCURRENT / (Number(process.hrtime.bigint() - started) / 1e9);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The median latency of BLOCK_CALLS sequential calls, in microseconds. */
async function blockP50(client: Client): Promise<number> {
  const latencies: number[] = [];
  for (let i = 0; i < BLOCK_CALLS; i++) {
    const t = performance.now();
    await client.getWidget({ id: 'w1' });
    latencies.push((performance.now() - t) * 1000);
  }
  return median(latencies);
}

/**
 * p50 in many short blocks, kit and bare in turn (which goes first alternating): the median of
 * each block pair's kit/bare ratio. Load on a shared machine drifts over seconds, so pairs of
 * short blocks see the same load where two 5000-call parts do not.
 */
async function alternatingBlocks(kit: Client, bare: Client): Promise<{ kit: number; bare: number; ratio: number }> {
  const kits: number[] = [];
  const bares: number[] = [];
  const ratios: number[] = [];
  for (let block = 0; block < BLOCKS; block++) {
    const [first, second] = block % 2 === 0 ? [kit, bare] : [bare, kit];
    const a = await blockP50(first);
    const b = await blockP50(second);
    const [k, r] = first === kit ? [a, b] : [b, a];
    kits.push(k);
    bares.push(r);
    ratios.push(k / r);
  }
  return { kit: median(kits), bare: median(bares), ratio: median(ratios) };
}

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-'));
  const keys = await TestKeySet.create();
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(keys.jwks));
  const config = loadConfig({
    env: { TRELLIS_DATA_DIR: dir, TRELLIS_AUTH_JWKS_FILE: join(dir, 'jwks.json'), TRELLIS_OPS_PORT: '0', TRELLIS_LOG_LEVEL: 'warn' },
  });
  const runtime = await PlatformRuntime.create(config);
  const kit = await startService(defineService({ name: 'bench', defaultPort: 0, module: widgetBenchModule(), grpcServices: [WidgetService] }), runtime);
  const bare = await startBareWidgetServer();
  const token = await keys.mint({ sub: 'bench', bindings: [{ project: 'p1', role: 'viewer' }] });
  const kitClient = createGrpcClient(WidgetService, kit.grpcAddress, { token });
  const bareClient = createGrpcClient(WidgetService, bare.address, { token });

  for (const client of [kitClient, bareClient]) for (let i = 0; i < 1000; i++) await client.getWidget({ id: 'w1' });

  const rows: Record<string, Record<string, number[]>> = { kit: {}, bare: {} };
  const record = (who: string, key: string, value: number) => (rows[who][key] ??= []).push(value);
  // Alternate kit and bare within each round, so machine noise hits both alike, and which goes
  // first from round to round. Each part starts on a collected heap: otherwise it pays for the
  // garbage of the part before it, and whichever went first in a round lost 20 to 30%.
  const both = [['kit', kitClient], ['bare', bareClient]] as const;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [who, client] of round % 2 === 0 ? both : [...both].reverse()) {
      collectGarbage();
      const seq = await sequential(client);
      record(who, 'p50', seq.p50);
      record(who, 'p99', seq.p99);
      record(who, 'seq', seq.perSecond);
      collectGarbage();
      record(who, 'c64', await concurrent(client));
    }
  }

  const m = (who: string, key: string) => median(rows[who][key]);
  console.log(`grpc unary round trip, ${ROUNDS} rounds (medians; kit and bare first in turn, each part on a collected heap), ${SEQUENTIAL} sequential + ${CONCURRENT} at ${IN_FLIGHT} in flight per round`);
  console.log(`node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? 'unknown'}), client and server in one process, loopback`);
  console.log('metric                 bare grpc-js      trellis kit      kit/bare             paired');
  // paired: the median of each round's own kit/bare ratio, which a machine whose load drifts between rounds moves less.
  const paired = (key: string) => median(rows.kit[key].map((kit, round) => kit / rows.bare[key][round]));
  const line = (label: string, key: string, unit: string, lowerIsBetter: boolean) => {
    const ratio = m('kit', key) / m('bare', key);
    const overhead = lowerIsBetter ? ratio - 1 : 1 / ratio - 1;
    console.log(
      `${label.padEnd(22)} ${`${m('bare', key).toFixed(1)} ${unit}`.padEnd(17)} ${`${m('kit', key).toFixed(1)} ${unit}`.padEnd(16)} ${`${ratio.toFixed(3)} (cost ${(overhead * 100).toFixed(1)}%)`.padEnd(20)} ${paired(key).toFixed(3)}`,
    );
  };
  line('p50 sequential', 'p50', 'us', true);
  line('p99 sequential', 'p99', 'us', true);
  line('throughput, 1 in flight', 'seq', '/s', false);
  line('throughput, 64 in flight', 'c64', '/s', false);
  collectGarbage();
  const blocks = await alternatingBlocks(kitClient, bareClient);
  console.log(
    `p50 in ${BLOCKS} alternating blocks of ${BLOCK_CALLS} calls: bare ${blocks.bare.toFixed(1)} us, kit ${blocks.kit.toFixed(1)} us, median block kit/bare ${blocks.ratio.toFixed(3)}`,
  );

  kitClient.close();
  bareClient.close();
  bare.stop();
  await kit.close();
  await runtime.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
