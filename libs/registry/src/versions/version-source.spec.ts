import { InvalidArgumentError } from '@trellis/platform';
import { parseSource } from './version-source';

describe('reading a version source', () => {
  it.each([
    ['runs:/0123abcd/model', { kind: 'run', runId: '0123abcd', path: 'model' }],
    ['runs:/0123abcd/model/sub/', { kind: 'run', runId: '0123abcd', path: 'model/sub' }],
    ['runs:/0123abcd', { kind: 'run', runId: '0123abcd', path: '' }],
    ['models:/churn/3', { kind: 'model', name: 'churn', version: 3 }],
    ['models:/churn@champion', { kind: 'model', name: 'churn', alias: 'champion' }],
    ['models:/team@x@prod', { kind: 'model', name: 'team@x', alias: 'prod' }],
    ['s3://bucket/model.onnx', { kind: 'reference', uri: 's3://bucket/model.onnx' }],
    ['/mnt/models/m.pt', { kind: 'reference', uri: '/mnt/models/m.pt' }],
  ])('reads %s', (source, expected) => {
    expect(parseSource(source)).toEqual(expected);
  });

  it.each(['', 'registry://default/models/p2/7/1/', 'REGISTRY://x', 'runs:/', 'runs:/a/../b', 'runs:/a//b', 'runs:/a/b\\c', 'models:/churn', 'models:/churn/v3', 'models:/churn/0', 'models:/a/b/3', 'models:/churn@latest', 'models:/@prod'])(
    'refuses %j, naming source',
    (source) => {
      expect(() => parseSource(source)).toThrow(InvalidArgumentError);
      expect(() => parseSource(source)).toThrow(/^source: /);
    },
  );
});
