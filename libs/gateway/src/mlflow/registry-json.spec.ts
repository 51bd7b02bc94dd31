import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { ModelVersionSchema, ModelVersionStatus, RegisteredModelSchema } from '@trellis/proto';
import { modelVersionJson, registeredModelJson } from './registry-json';

describe("MLflow's registry JSON", () => {
  const version = create(ModelVersionSchema, {
    projectId: 'p1',
    modelName: 'churn',
    version: 3n,
    source: 'runs:/abc/model',
    runId: 'abc',
    storageUri: 'registry://default/models/p1/7/3/',
    status: ModelVersionStatus.FAILED,
    statusMessage: 'run abc has no artifacts to copy',
    description: 'third',
    runLink: 'http://ci.example.com/run/abc',
    tags: [{ key: 'k', value: 'v' }],
    aliases: ['champion'],
    creatorId: 'alice',
    createTime: timestampFromMs(1_700_000_000_000),
    updateTime: timestampFromMs(1_700_000_000_500),
  });

  it('writes a version with its number as a string, stage "None" and MLflow\'s status names', () => {
    expect(modelVersionJson(version)).toEqual({
      name: 'churn',
      version: '3',
      creation_timestamp: 1_700_000_000_000,
      last_updated_timestamp: 1_700_000_000_500,
      user_id: 'alice',
      current_stage: 'None',
      description: 'third',
      source: 'runs:/abc/model',
      run_id: 'abc',
      status: 'FAILED_REGISTRATION',
      status_message: 'run abc has no artifacts to copy',
      tags: [{ key: 'k', value: 'v' }],
      run_link: 'http://ci.example.com/run/abc',
      aliases: ['champion'],
    });
    expect(modelVersionJson({ ...version, status: ModelVersionStatus.PENDING }).status).toBe('PENDING_REGISTRATION');
    expect(modelVersionJson({ ...version, status: ModelVersionStatus.READY }).status).toBe('READY');
  });

  it('writes a model with its latest version, and aliases with versions as strings', () => {
    const model = create(RegisteredModelSchema, {
      projectId: 'p1',
      name: 'churn',
      description: 'd',
      tags: [{ key: 'team', value: 'risk' }],
      aliases: [{ alias: 'champion', version: 3n }],
      latestVersion: 3n,
      creatorId: 'alice',
      createTime: timestampFromMs(1),
      updateTime: timestampFromMs(2),
    });
    expect(registeredModelJson(model, version)).toEqual({
      name: 'churn',
      creation_timestamp: 1,
      last_updated_timestamp: 2,
      user_id: 'alice',
      description: 'd',
      latest_versions: [modelVersionJson(version)],
      tags: [{ key: 'team', value: 'risk' }],
      aliases: [{ alias: 'champion', version: '3' }],
    });
    expect(registeredModelJson(model, undefined).latest_versions).toEqual([]);
  });
});
