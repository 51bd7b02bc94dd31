// `trellis datasets push` of a 1 GiB file against curl uploading as many bytes to the gateway's
// blob route (PUT /v1/data/projects/<p>/blobs/<sha256>, the gateway's upload rate; also, for
// reference, to the route that takes no digest, PUT /v1/data/projects/<p>/blobs, which the CLI
// uses for a large file it hashes while sending), on one
// standalone platform (`npm start`'s script, as built: run `npm run build` first), same disk, same
// run. The CLI runs under a pseudo-terminal (util-linux `script`, with --log-timing), as a person at
// a terminal runs it, so its progress bar is drawn; the largest gap between two of the bar's
// redraws is read from script's timing log.
//
//   node tools/bench/run.cjs tools/bench/cli/datasets-push.ts [--size-mib 1024] [--runs 3] [--dir <work dir>] [--with-parts]
//
// Each round uploads three new files of the same size (curl's to each route and the CLI's, in an order that rotates),
// made of a 1 MiB pseudo-random block with the round, the file and the block's number written into
// every block, so no two blocks and no two files are alike (storage dedupes whole blobs only). The
// CLI's time is the whole command (start, FindMissingBlobs, upload hashed while sent, commit);
// curl's digest is computed beforehand and not timed. The ratio is the median of the rounds'
// trellis/curl ratios against the route with a digest (each round's transfers run back to back,
// under the same load). `--with-parts` adds a CLI push in resumable parts
// (`--parts-over 0`) per round. Rows are medians of the rounds. The work dir (default
// tmp/bench-cli-push, which git ignores) is removed at the end.
import { GatewayClient } from '@trellis/client';
import { startStandaloneProcess } from '@trellis/testing';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const MiB = 1024 * 1024;
const REPO = resolve(__dirname, '..', '..', '..');
const CLI = join(REPO, 'apps', 'cli', 'bin', 'trellis.js');
const TARGET_RATIO = 0.8;
const TARGET_GAP_MS = 500;

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const sizeMiB = Number(argument('size-mib', '1024'));
const runs = Number(argument('runs', '3'));
const workDir = resolve(argument('dir', join(REPO, 'tmp', 'bench-cli-push')));
const withParts = process.argv.includes('--with-parts');

/** Writes `sizeMiB` MiB: one pseudo-random block, stamped with (label, block number) at its start. */
function writeFile(path: string, label: string): string {
  const block = Buffer.alloc(MiB);
  let state = createHash('sha256').update('trellis-bench-cli-push').digest();
  for (let at = 0; at < MiB; at += state.length) {
    state = createHash('sha256').update(state).digest();
    state.copy(block, at);
  }
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  for (let i = 0; i < sizeMiB; i += 1) {
    block.write(`${label}:${i}:`.padEnd(48, '.'), 0, 'latin1');
    hash.update(block);
    writeSync(fd, block);
  }
  closeSync(fd);
  return hash.digest('hex');
}

/** Seconds that `run` takes. */
function timed(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * Writes back what the previous transfers left dirty in the page cache, so that no timed transfer
 * pays for another's writeback (without it, whichever ran second was up to 40% slower).
 */
function settle(): void {
  execFileSync('sync');
}

/** curl's PUT of the file to the blob route, naming its digest, or to the route that computes it (`sha256` empty). */
function curlPut(gateway: string, key: string, projectId: string, path: string, sha256: string): number {
  settle();
  const route = `${gateway}/v1/data/projects/${projectId}/blobs${sha256 ? `/${sha256}` : ''}`;
  return timed(() => {
    const code = execFileSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Authorization: Bearer ${key}`, '-T', path, route]).toString();
    if (code !== '200') throw new Error(`curl's upload answered ${code}`);
  });
}

/** The CLI's push under a pseudo-terminal: its seconds and the largest gap between two redraws of its bar, in ms. */
function cliPush(env: NodeJS.ProcessEnv, dataset: string, path: string, extra: string[]): { seconds: number; maxGapMs: number; redraws: number } {
  const [timing, out] = [join(workDir, 'timing.log'), join(workDir, 'out.log')];
  const command = [process.execPath, CLI, 'datasets', 'push', dataset, path, '--create', ...extra].map((word) => `'${word}'`).join(' ');
  let status: number | null = null;
  settle();
  const seconds = timed(() => {
    status = spawnSync('script', ['-q', '-e', '-c', command, '--log-timing', timing, '--log-out', out], { env, stdio: ['ignore', 'ignore', 'inherit'] }).status;
  });
  if (status !== 0) throw new Error(`trellis datasets push exited ${status}:\n${readFileSync(out, 'utf8').slice(-2000)}`);
  return { seconds, ...redrawGaps(readFileSync(timing, 'utf8'), readFileSync(out)) };
}

/**
 * The largest gap between consecutive writes that redraw the bar (from its first frame to its
 * last), from script's classic timing log: one `<seconds since the previous write> <bytes>` line
 * per write to the terminal, in order, the bytes being those of the output log after its header.
 */
function redrawGaps(timing: string, out: Buffer): { maxGapMs: number; redraws: number } {
  let offset = out.indexOf('\n') + 1; // the "Script started on ..." line
  let clock = 0;
  const frames: number[] = [];
  for (const line of timing.trim().split('\n')) {
    const [delay, bytes] = line.split(' ').map(Number);
    clock += delay;
    const text = out.subarray(offset, offset + bytes).toString('utf8');
    offset += bytes;
    if (/(hashing|uploading) +[█░]/.test(text)) frames.push(clock);
  }
  const gaps = frames.slice(1).map((at, i) => at - frames[i]);
  return { maxGapMs: Math.round(Math.max(0, ...gaps) * 1000), redraws: frames.length };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  mkdirSync(workDir, { recursive: true });
  const platform = await startStandaloneProcess();
  try {
    const admin = new GatewayClient({ url: platform.gateway, credential: platform.adminKey });
    const { project } = await admin.call<{ project: { id: string; name: string } }>('trellis.governance.v1.IdentityService/CreateProject', { name: `bench-cli-push-${Date.now()}` });
    const env = { ...process.env, TRELLIS_URL: platform.gateway, TRELLIS_API_KEY: platform.adminKey, TRELLIS_PROJECT: project.id, TRELLIS_CONFIG_DIR: join(workDir, 'config') };
    const rows: Array<{ curl: number; curlUnnamed: number; cli: number; gap: number; redraws: number; parts?: number }> = [];
    for (let round = 1; round <= runs; round += 1) {
      const [curlFile, unnamedFile, cliFile, partsFile] = ['curl', 'curl-unnamed', 'cli', 'parts'].map((who) => join(workDir, `${who}.bin`));
      const curlSha = writeFile(curlFile, `round ${round} curl`);
      writeFile(unnamedFile, `round ${round} curl without digest`);
      writeFile(cliFile, `round ${round} cli`);
      const load = loadavg()[0].toFixed(1);
      let [curl, curlUnnamed] = [0, 0];
      let cli = { seconds: 0, maxGapMs: 0, redraws: 0 };
      // Rotate which goes first, so that none always meets a warmer (or busier) platform.
      const transfers = [
        () => (curl = curlPut(platform.gateway, platform.adminKey, project.id, curlFile, curlSha)),
        () => (cli = cliPush(env, `round-${round}`, cliFile, [])),
        () => (curlUnnamed = curlPut(platform.gateway, platform.adminKey, project.id, unnamedFile, '')),
      ];
      for (let i = 0; i < transfers.length; i += 1) transfers[(round - 1 + i) % transfers.length]();
      const row: (typeof rows)[number] = { curl: sizeMiB / curl, curlUnnamed: sizeMiB / curlUnnamed, cli: sizeMiB / cli.seconds, gap: cli.maxGapMs, redraws: cli.redraws };
      if (withParts) {
        writeFile(partsFile, `round ${round} parts`);
        row.parts = sizeMiB / cliPush(env, `round-${round}-parts`, partsFile, ['--parts-over', '0']).seconds;
      }
      rows.push(row);
      console.log(
        `round ${round} (load ${load}): curl ${row.curl.toFixed(1)} MiB/s (without digest ${row.curlUnnamed.toFixed(1)}), trellis ${row.cli.toFixed(1)} MiB/s (ratio ${(row.cli / row.curl).toFixed(2)}), bar's largest gap ${row.gap} ms over ${row.redraws} redraws` +
          (row.parts !== undefined ? `, trellis in parts ${row.parts.toFixed(1)} MiB/s` : ''),
      );
      for (const file of [curlFile, unnamedFile, cliFile, partsFile]) rmSync(file, { force: true });
    }
    const [curl, cli, gap] = [median(rows.map((row) => row.curl)), median(rows.map((row) => row.cli)), Math.max(...rows.map((row) => row.gap))];
    // Each round's pair ran back to back; the machine's load changes between rounds, so the ratio is the median of the pairs'.
    const ratio = median(rows.map((row) => row.cli / row.curl));
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    console.log(`\n${sizeMiB} MiB, median of ${runs}; ${cpus().length} x ${cpu}, ${Math.round(totalmem() / 1024 ** 3)} GiB; node ${process.version}; ${execFileSync('curl', ['--version']).toString().split('\n')[0]}`);
    console.log('| upload | MiB/s |\n|---|---|');
    console.log(`| curl PUT /v1/data/projects/<p>/blobs/<sha256> (the gateway's upload rate) | ${curl.toFixed(1)} |`);
    console.log(`| curl PUT /v1/data/projects/<p>/blobs (no digest: the gateway computes it) | ${median(rows.map((row) => row.curlUnnamed)).toFixed(1)} |`);
    console.log(`| trellis datasets push (find missing, PUT hashed while sent, commit) | ${cli.toFixed(1)} |`);
    if (withParts) console.log(`| trellis datasets push --parts-over 0 (64 MiB parts, complete) | ${median(rows.map((row) => row.parts ?? 0)).toFixed(1)} |`);
    console.log(`\nratio (median of the rounds' trellis/curl) ${ratio.toFixed(2)} (target >= ${TARGET_RATIO}): ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`);
    console.log(`progress bar: largest gap between redraws ${gap} ms in any round (target <= ${TARGET_GAP_MS}): ${gap <= TARGET_GAP_MS ? 'met' : 'NOT met'}`);
  } finally {
    await platform.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
