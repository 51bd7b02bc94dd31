import { InvalidArgumentError } from '@trellis/platform';
import { parseSource } from './version-source.parser';

describe('reading a version source', () => {
  it.each([
    ['runs:/0123abcd/model', { kind: 'run', runId: '0123abcd', path: 'model' }],
    ['runs:/0123abcd/model/sub/', { kind: 'run', runId: '0123abcd', path: 'model/sub' }],
    ['runs:/0123abcd', { kind: 'run', runId: '0123abcd', path: '' }],
    ['mlflow-artifacts:/7/0123abcd/artifacts/model', { kind: 'run', runId: '0123abcd', path: 'model', experimentId: '7' }],
    ['mlflow-artifacts://gateway:8080/7/0123abcd/artifacts/model/sub/', { kind: 'run', runId: '0123abcd', path: 'model/sub', experimentId: '7' }],
    ['mlflow-artifacts:/7/0123abcd/artifacts', { kind: 'run', runId: '0123abcd', path: '', experimentId: '7' }],
    ['mlflow-artifacts:/models/default/churn/1', { kind: 'reference', uri: 'mlflow-artifacts:/models/default/churn/1' }],
    ['models:/churn/3', { kind: 'model', name: 'churn', version: 3 }],
    ['models:/churn@champion', { kind: 'model', name: 'churn', alias: 'champion' }],
    ['models:/team@x@prod', { kind: 'model', name: 'team@x', alias: 'prod' }],
    ['s3://bucket/model.onnx', { kind: 'reference', uri: 's3://bucket/model.onnx' }],
    ['/mnt/models/m.pt', { kind: 'reference', uri: '/mnt/models/m.pt' }],
  ])('reads %s', (source, expected) => {
    expect(parseSource(source)).toEqual(expected);
  });

  it.each(['', 'registry://default/models/p2/7/1/', 'REGISTRY://x/y', 'runs:/a//b', 'runs:/a/b\\c', 'models:/churn', 'models:/churn/v3', 'models:/churn/0', 'models:/a/b/3', 'models:/churn@latest', 'models:/@prod'])(
    'refuses %j, naming source',
    (source) => {
      expect(() => parseSource(source)).toThrow(InvalidArgumentError);
      expect(() => parseSource(source)).toThrow(/^source: /);
    },
  );

  // Each of these is a READY reference without the check, pointing a reader outside the place it names.
  it.each([
    'mlflow-artifacts:/7/0123abcd/artifacts/../../8/other/artifacts',
    'mlflow-artifacts://host:5000/..%2f..%2f..%2fetc',
    'mlflow-artifacts://host:5000/%252e%252e/secrets',
    'http://host:5000/api/2.0/mlflow-artifacts/artifacts/../../../../',
    'https://host/api/2.0/mlflow-artifacts/artifacts%00',
    's3a://bucket/models/path/../../other/path',
    'ftp://host/models/./model',
    'dbfs:/models/a/..%2Fb',
    'file:///models/../etc/passwd',
    's3://bucket',
    'runs:/',
    'runs:/a/../b',
    'relative/model',
  ])('refuses %j in MLflow\'s words: a source must be an absolute path without relative path references', (source) => {
    expect(() => parseSource(source)).toThrow(InvalidArgumentError);
    expect(() => parseSource(source)).toThrow(
      `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`,
    );
  });

  it('echoes only the first 100 characters of a long source it refuses', () => {
    const source = `s3://bucket/${'a'.repeat(200)}/../x`;
    expect(() => parseSource(source)).toThrow(`Invalid model version source: '${source.slice(0, 100)}...'.`);
  });
});
