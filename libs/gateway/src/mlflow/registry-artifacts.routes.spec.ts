import { create } from '@bufbuild/protobuf';
import { ModelVersionSchema } from '@trellis/proto';
import { isVersionArtifactPath, versionArtifactPath, versionDownloadUri } from './registry-artifacts.routes';

describe('model version files through the proxied artifact store', () => {
  it('answers get-download-uri with a gateway URI for copied versions, and the referenced URI for references', () => {
    const copied = create(ModelVersionSchema, { modelName: 'churn', version: 2n, storageUri: 'registry://default/models/p1/7/2/' });
    expect(versionDownloadUri('research', copied)).toBe('mlflow-artifacts:/models/research/churn/2');
    expect(versionDownloadUri('research', { ...copied, storageUri: 's3://bucket/churn.onnx' })).toBe('s3://bucket/churn.onnx');
  });

  it('reads models/<project>/<name>/<version>[/<path>], which no run path can be (experiment ids are digits)', () => {
    expect(versionArtifactPath('models/research/churn/2/MLmodel')).toEqual({ project: 'research', name: 'churn', version: 2n, path: 'MLmodel' });
    expect(versionArtifactPath('models/research/churn/12/data/weights.bin/')).toEqual({ project: 'research', name: 'churn', version: 12n, path: 'data/weights.bin' });
    expect(versionArtifactPath('models/default/churn model/1')).toMatchObject({ name: 'churn model', path: '' });
    expect(() => versionArtifactPath('models/research/churn/latest')).toThrow('expected models/<project>/<name>/<version>[/<path>]');
    expect(() => versionArtifactPath('models/research')).toThrow();
    expect(isVersionArtifactPath('models/research/churn/1')).toBe(true);
    expect(isVersionArtifactPath('3/abc/artifacts/models')).toBe(false);
  });

  it("refuses paths that climb out of a version's files in MLflow's words, and drops the . segments a listing of '.' sends", () => {
    expect(versionArtifactPath('models/research/churn/2/./data/.')).toMatchObject({ version: 2n, path: 'data' });
    for (const path of ['models/research/churn/2/../3/MLmodel', 'models/research/churn/2/..%2f3', 'models/research/churn/2/%252e%252e/x']) {
      expect(() => versionArtifactPath(path)).toThrow(/^Invalid path$/);
    }
  });
});
