import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fromBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import type { EventSubscription, GrpcCallError, GrpcClient } from '@trellis/platform';
import type { TestPlatform } from '@trellis/platform/testing';
import {
  EndpointServiceDesc,
  RegistryServiceDesc,
  RevisionState,
  RolloutEventSchema,
  RolloutServiceDesc,
  RolloutStage,
  type Endpoint,
  type EventEnvelope,
} from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { startOnnxServing, type OnnxServing } from '../test/onnx-serving';
import { scaleModel } from './scale-model.fixture';

/** A model with x FP32 [batch, 4] that fails on every input of 2 rows: it reshapes the 8 values to 3 rows. */
async function failingModel(path: string): Promise<Buffer> {
  const script = [
    'import sys, onnx',
    'from onnx import helper, TensorProto',
    'g = helper.make_graph([helper.make_node("Reshape", ["x", "s"], ["y"])], "broken",',
    '  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])],',
    '  [helper.make_tensor("s", TensorProto.INT64, [2], [3, -1])])',
    'm = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 8',
    'onnx.save(m, sys.argv[1])',
  ].join('\n');
  await promisify(execFile)('/usr/bin/python3', ['-c', script, path]);
  return readFile(path);
}

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as GrpcCallError | undefined;
const X = [0.5, -1, 2, 4, 1.5, 0, -3, 0.25];

describe('progressive rollout: moving @champion canaries the new version, then promotes or rolls it back by itself (SQLite, ONNX)', () => {
  let stack: OnnxServing;
  let platform: TestPlatform;
  let registry: GrpcClient<(typeof RegistryServiceDesc)['method']>;
  let endpoints: GrpcClient<(typeof EndpointServiceDesc)['method']>;
  let rollouts: GrpcClient<(typeof RolloutServiceDesc)['method']>;
  let subscription: EventSubscription;
  let rest: string;
  let token: string;
  let endpoint: Endpoint;
  let plain: Endpoint;
  const published: Array<{ subject: string; stage: RolloutStage; reason: string }> = [];
  const aliasMoves: EventEnvelope[] = [];
  const erin = { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' as const }] };
  const policy = (bakeTimeMs: bigint) => ({ follow: 'models:/churn@champion', canaryPercent: 50, bakeTimeMs, guards: { maxErrorPercent: 5, maxP99LatencyMs: 60_000n, minRequests: 10n } });

  const infer = async () => {
    const response = await fetch(`${rest}/v2/models/churn/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 4], data: X }] }),
    });
    await response.arrayBuffer();
    return response.status;
  };
  const latest = async () => (await rollouts.listRollouts({ endpointId: endpoint.id })).rollouts[0];
  /** Sends requests until the newest rollout reaches `stage`: the guards judge only what the canary answered. */
  const driveUntil = async (stage: RolloutStage) =>
    eventually(
      async () => {
        for (let i = 0; i < 10; i++) await infer();
        expect((await latest())?.stage).toBe(stage);
      },
      { timeoutMs: 60_000 },
    );
  const shares = async (id: string) => {
    const current = (await endpoints.getEndpoint({ endpointId: id })).endpoint!;
    return Object.fromEntries(current.traffic!.targets.map((target) => [String(current.revisions.find((revision) => revision.id === target.revisionId)!.modelVersion), target.percent]));
  };

  beforeAll(async () => {
    stack = await startOnnxServing('rollout', { TRELLIS_SERVING_ROLLOUT_INTERVAL_MS: '50' });
    ({ platform, rest } = stack);
    subscription = await platform.runtime.bus.subscribe({
      durable: 'serving-rollout-spec',
      subject: 'trellis.>',
      handler: async (envelope) => {
        if (envelope.subject === 'trellis.registry.v1.alias.set') aliasMoves.push(envelope);
        if (!envelope.subject.startsWith('trellis.serving.v1.rollout.')) return;
        const { rollout } = fromBinary(RolloutEventSchema, envelope.payload);
        published.push({ subject: envelope.subject, stage: rollout!.stage, reason: rollout!.reason });
      },
    });
    token = await platform.keys.mint(erin);
    endpoints = await platform.client(EndpointServiceDesc, stack.serving.grpcAddress, erin);
    rollouts = await platform.client(RolloutServiceDesc, stack.serving.grpcAddress, erin);
    registry = await platform.client(RegistryServiceDesc, stack.registry.grpcAddress, erin);
    await stack.registerVersions(erin, await stack.createRun(erin, 'churn'), 'churn', [
      ['v1', await scaleModel(2, join(stack.dir, 'v1.onnx'))],
      ['v2', await scaleModel(3, join(stack.dir, 'v2.onnx'))],
      ['v3', await failingModel(join(stack.dir, 'v3.onnx'))],
    ]);
    await registry.setAlias({ projectId: 'p1', modelName: 'churn', alias: 'champion', version: 1n });
    endpoint = (await endpoints.createEndpoint({ projectId: 'p1', name: 'churn', model: 'models:/churn@champion' })).endpoint!;
    plain = (await endpoints.createEndpoint({ projectId: 'p1', name: 'churn-pinned', model: 'models:/churn@champion' })).endpoint!;
    await eventually(async () => expect((await endpoints.getEndpoint({ endpointId: endpoint.id })).endpoint!.revisions[0].state).toBe(RevisionState.READY), { timeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await subscription?.stop();
    await stack?.stop();
  });

  it('refuses a policy that follows a version rather than an alias, or a canary outside 1 to 99%, naming the field', async () => {
    const byNumber = await failure(rollouts.setRolloutPolicy({ endpointId: endpoint.id, policy: { ...policy(1000n), follow: 'models:/churn/2' } }));
    expect({ code: byNumber?.code, details: byNumber?.details }).toEqual({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('policy.follow') });
    const all = await failure(rollouts.setRolloutPolicy({ endpointId: endpoint.id, policy: { ...policy(1000n), canaryPercent: 100 } }));
    expect({ code: all?.code, details: all?.details }).toEqual({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('policy.canary_percent') });
    const missing = await failure(rollouts.setRolloutPolicy({ endpointId: randomUUID(), policy: policy(1000n) }));
    expect(missing?.code).toBe(status.NOT_FOUND);
  });

  it('canaries the version @champion moves to, and promotes it to all of the traffic once it baked within its guards', async () => {
    const set = await rollouts.setRolloutPolicy({ endpointId: endpoint.id, policy: policy(300n) });
    expect(set.policy).toMatchObject({ follow: 'models:/churn@champion', canaryPercent: 50 });
    await registry.setAlias({ projectId: 'p1', modelName: 'churn', alias: 'champion', version: 2n });
    await eventually(async () => expect((await latest())?.stage).toBe(RolloutStage.CANARY), { timeoutMs: 30_000 });
    expect(await shares(endpoint.id)).toEqual({ '1': 50, '2': 50 });
    await driveUntil(RolloutStage.PROMOTED);
    expect(await shares(endpoint.id)).toEqual({ '2': 100 });
    expect((await latest())!.reason).toMatch(/^baked within its guards: error rate 0\.0%, p99 latency [0-9.]+ ms over [0-9]+ requests$/);
  });

  it('leaves an endpoint without a policy where it was when its alias moves', async () => {
    expect(await shares(plain.id)).toEqual({ '1': 100 });
    expect((await rollouts.listRollouts({ endpointId: plain.id })).rollouts).toEqual([]);
  });

  it('rolls a canary that fails its requests back by itself, before its bake time, with the reason and an event', async () => {
    await rollouts.setRolloutPolicy({ endpointId: endpoint.id, policy: policy(3_600_000n) });
    await registry.setAlias({ projectId: 'p1', modelName: 'churn', alias: 'champion', version: 3n });
    await eventually(async () => expect((await latest())).toMatchObject({ stage: RolloutStage.CANARY, modelVersion: 3n }), { timeoutMs: 30_000 });
    await driveUntil(RolloutStage.ROLLED_BACK);
    const rolledBack = (await latest())!;
    expect(rolledBack.reason).toMatch(/^error rate [0-9.]+% > 5\.0% over [0-9]+ requests$/);
    expect(await shares(endpoint.id)).toEqual({ '2': 100 });
    expect(await infer()).toBe(200);
    await eventually(async () =>
      expect(published.map(({ subject, stage }) => [subject, RolloutStage[stage]])).toEqual([
        ['trellis.serving.v1.rollout.started', 'CANARY'],
        ['trellis.serving.v1.rollout.promoted', 'PROMOTED'],
        ['trellis.serving.v1.rollout.started', 'CANARY'],
        ['trellis.serving.v1.rollout.rolled_back', 'ROLLED_BACK'],
      ]),
    );
    expect(published.at(-1)!.reason).toBe(rolledBack.reason);
  });

  it('shows the policy and the latest rollout on GetEndpoint and ListEndpoints, as ListRollouts does', async () => {
    const { policy: followed, rollouts: [newest] } = await rollouts.listRollouts({ endpointId: endpoint.id });
    expect(newest.stage).toBe(RolloutStage.ROLLED_BACK);
    const got = (await endpoints.getEndpoint({ endpointId: endpoint.id })).endpoint!;
    expect({ policy: got.rolloutPolicy, rollout: got.rollout }).toEqual({ policy: followed, rollout: newest });
    const listed = (await endpoints.listEndpoints({ projectId: 'p1' })).endpoints;
    expect(listed.map(({ name, rolloutPolicy, rollout }) => [name, rolloutPolicy?.bakeTimeMs, rollout?.id])).toEqual([
      ['churn', 3_600_000n, newest.id],
      ['churn-pinned', undefined, undefined],
    ]);
  });

  it('does nothing twice when an alias move is delivered again, under its own id or a new one', async () => {
    const moveTo3 = aliasMoves.at(-1)!;
    await platform.runtime.bus.publish(moveTo3);
    await platform.runtime.bus.publish({ ...moveTo3, id: randomUUID() });
    // The next move, delivered after the replays, shows they were handled: version 2 already answers everything.
    await registry.setAlias({ projectId: 'p1', modelName: 'churn', alias: 'champion', version: 2n });
    await eventually(async () => expect((await latest())).toMatchObject({ stage: RolloutStage.ABORTED, modelVersion: 2n, reason: 'version 2 already answers all requests' }), { timeoutMs: 30_000 });
    const all = (await rollouts.listRollouts({ endpointId: endpoint.id })).rollouts;
    expect(all.map((rollout) => [Number(rollout.modelVersion), RolloutStage[rollout.stage]])).toEqual([
      [2, 'ABORTED'],
      [3, 'ROLLED_BACK'],
      [2, 'PROMOTED'],
    ]);
    expect(await shares(endpoint.id)).toEqual({ '2': 100 });
  });
});
