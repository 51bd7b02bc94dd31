import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GrpcClient, RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import storageFs from '@trellis/plugin-storage-fs';
import { ArtifactServiceDesc, ExperimentServiceDesc, RunServiceDesc } from '@trellis/proto';
import { trackingService } from '@trellis/tracking';

describe("a project's choice of storage instance for artifacts", () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-stores-'));
  const teamRoot = join(dir, 'team-a');
  let platform: TestPlatform;
  let service: RunningService;
  let admin: {
    experiments: GrpcClient<(typeof ExperimentServiceDesc)['method']>;
    runs: GrpcClient<(typeof RunServiceDesc)['method']>;
    artifacts: GrpcClient<(typeof ArtifactServiceDesc)['method']>;
  };

  beforeAll(async () => {
    const config = join(dir, 'trellis.yaml');
    writeFileSync(config, `storage:\n  team-a:\n    plugin: storage-fs\n    config:\n      root: ${JSON.stringify(teamRoot)}\n`);
    platform = await TestPlatform.start({ TRELLIS_CONFIG: config }, { plugins: [storageFs] });
    service = await platform.startService(trackingService);
    const claims = { sub: 'ada', bindings: [{ project: 'p1', role: 'admin' as const }] };
    admin = {
      experiments: await platform.client(ExperimentServiceDesc, service.grpcAddress, claims),
      runs: await platform.client(RunServiceDesc, service.grpcAddress, claims),
      artifacts: await platform.client(ArtifactServiceDesc, service.grpcAddress, claims),
    };
  });

  afterAll(async () => {
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('puts new runs in the chosen instance and leaves earlier runs where they were', async () => {
    const { experiment } = await admin.experiments.createExperiment({ projectId: 'p1', name: 'stores' });
    const upload = async (runId: string) =>
      admin.artifacts.uploadArtifact([{ part: { case: 'header', value: { runId, path: 'notes.txt' } } }, { part: { case: 'chunk', value: Buffer.from(runId) } }]);
    const before = (await admin.runs.createRun({ experimentId: experiment!.id })).run!.info!.id;
    await upload(before);

    expect((await admin.artifacts.setArtifactStore({ projectId: 'p1', store: 'team-a' })).store).toBe('team-a');
    const after = (await admin.runs.createRun({ experimentId: experiment!.id })).run!.info!.id;
    await upload(after);
    await upload(before);

    // storage-fs keeps object <key> at <root>/objects/<key>.
    const objectIn = (root: string, runId: string) => join(root, 'objects', experiment!.id, runId, 'artifacts', 'notes.txt');
    expect(readFileSync(objectIn(teamRoot, after), 'utf8')).toBe(after);
    expect(existsSync(objectIn(teamRoot, before))).toBe(false);
    expect(readFileSync(objectIn(join(platform.dir, 'artifacts'), before), 'utf8')).toBe(before);
    for (const runId of [before, after]) {
      const chunks: Buffer[] = [];
      for await (const piece of admin.artifacts.downloadArtifact({ runId, path: 'notes.txt' })) chunks.push(Buffer.from(piece.chunk));
      expect(Buffer.concat(chunks).toString()).toBe(runId);
    }
  });
});
