// Token figures of the governance issue, in one run:
// - verification per second on one core inside the kit (TokenVerifier): first sight of a token
//   (signature checked) and later calls (cached), against raw node:crypto Ed25519 verify of the
//   same tokens as the baseline;
// - key exchange p50/p99 through gRPC against a public no-op-ish call (GetSigningKeys) of the same
//   service as the baseline, on SQLite (standalone), rate limits raised so they do not interfere.
import 'reflect-metadata';
import { governanceService } from '@trellis/governance';
import { createGrpcClient, loadConfig, PlatformRuntime, startService, TokenVerifier } from '@trellis/platform';
import { TokenServiceDesc } from '@trellis/proto';
import { TestKeySet } from '@trellis/platform/testing';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

const TOKENS = Number(process.env.BENCH_TOKENS ?? 20000);
const EXCHANGES = Number(process.env.BENCH_EXCHANGES ?? 2000);

const perSecond = (count: number, startedAt: bigint) => count / (Number(process.hrtime.bigint() - startedAt) / 1e9);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function verification() {
  const keys = await TestKeySet.create();
  const tokens = await Promise.all(Array.from({ length: TOKENS }, (_, i) => keys.mint({ sub: `u${i}`, bindings: [{ project: 'p1', role: 'editor' }] })));
  const publicKey = createPublicKey({ key: keys.jwks.keys[0] as never, format: 'jwk' });

  let started = process.hrtime.bigint();
  for (const token of tokens) {
    const [header, payload, signature] = token.split('.');
    if (!cryptoVerify(null, Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url'))) throw new Error('bad signature');
  }
  const raw = perSecond(tokens.length, started);

  const verifier = new TokenVerifier({ keys: { kind: 'local', keys: keys.jwks }, issuer: 'trellis-governance', audience: 'trellis', cacheSize: TOKENS * 2 });
  started = process.hrtime.bigint();
  for (const token of tokens) await verifier.verify(token);
  const first = perSecond(tokens.length, started);
  started = process.hrtime.bigint();
  for (let round = 0; round < 5; round++) for (const token of tokens) await verifier.verify(token);
  const cached = perSecond(tokens.length * 5, started);
  return { raw, first, cached };
}

const ADMIN_KEY = `trellis_0123456789abcdef_${'A'.repeat(43)}`;

async function exchange() {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-gov-'));
  const config = loadConfig({
    services: ['governance'],
    env: {
      TRELLIS_DATA_DIR: dir,
      TRELLIS_OPS_PORT: '0',
      TRELLIS_GOVERNANCE_PORT: '0',
      TRELLIS_LOG_LEVEL: 'warn',
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
      TRELLIS_GOVERNANCE_EXCHANGES_PER_KEY_PER_SECOND: '1000000',
      TRELLIS_GOVERNANCE_EXCHANGES_PER_ADDRESS_PER_SECOND: '1000000',
    },
  });
  const runtime = await PlatformRuntime.create(config);
  await runtime.listenOps();
  const service = await startService(governanceService, runtime);
  const client = createGrpcClient(TokenServiceDesc, service.grpcAddress);
  const apiKey = ADMIN_KEY;
  const time = async (call: () => Promise<unknown>) => {
    const latencies: number[] = [];
    for (let i = 0; i < EXCHANGES; i++) {
      const t = process.hrtime.bigint();
      await call();
      latencies.push(Number(process.hrtime.bigint() - t) / 1e3);
    }
    return latencies.sort((a, b) => a - b);
  };
  for (let i = 0; i < 200; i++) await client.exchangeApiKey({ apiKey });
  const baseline = await time(() => client.getSigningKeys({}));
  const exchanged = await time(() => client.exchangeApiKey({ apiKey }));
  client.close();
  await service.close();
  await runtime.close();
  rmSync(dir, { recursive: true, force: true });
  return { baseline, exchanged };
}

async function main() {
  console.log(`governance token figures; node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? 'unknown'}), one process`);
  const v = await verification();
  console.log(`\ntoken verification, ${TOKENS} distinct EdDSA tokens, one core`);
  console.log(`  raw node:crypto Ed25519 verify (baseline)   ${v.raw.toFixed(0)} /s`);
  console.log(`  kit TokenVerifier, first sight              ${v.first.toFixed(0)} /s  (${(v.first / v.raw).toFixed(2)} x baseline)`);
  console.log(`  kit TokenVerifier, cached (later calls)     ${v.cached.toFixed(0)} /s  (${(v.cached / v.raw).toFixed(2)} x baseline)`);
  const e = await exchange();
  console.log(`\nkey exchange through gRPC, ${EXCHANGES} sequential calls, standalone (SQLite)`);
  console.log(`  GetSigningKeys (baseline)  p50 ${percentile(e.baseline, 0.5).toFixed(0)} us  p99 ${percentile(e.baseline, 0.99).toFixed(0)} us`);
  console.log(`  ExchangeApiKey             p50 ${percentile(e.exchanged, 0.5).toFixed(0)} us  p99 ${percentile(e.exchanged, 0.99).toFixed(0)} us`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
