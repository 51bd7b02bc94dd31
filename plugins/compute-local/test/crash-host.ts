// For the restart specs: a Trellis host that opens compute-local on the workDir in argv[2], submits
// the job in argv[3] (JSON) with the idempotency key in argv[4], prints {"jobId": ...} and stays
// until it is killed. Run with `node tools/bench/run.cjs plugins/compute-local/test/crash-host.ts`.
import { noopLogger } from '@trellis/plugin-sdk';
import plugin from '../src/index';

const [workDir, spec, idempotencyKey] = process.argv.slice(2) as [string, string, string];

(async () => {
  const config = plugin.configSchema.parse({ workDir, nvidiaSmi: 'no-such-nvidia-smi' });
  const compute = await plugin.create({ instanceName: 'crash', logger: noopLogger, dataDir: workDir, signal: new AbortController().signal }, config);
  const { jobId } = await compute.submit(JSON.parse(spec), { idempotencyKey });
  process.stdout.write(`${JSON.stringify({ jobId })}\n`);
  setInterval(() => undefined, 1 << 30);
})();
