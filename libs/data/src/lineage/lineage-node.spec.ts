import { LineageNodeKind } from '@trellis/proto/trellis/data/v1/lineage_service_pb';
import { datasetReferenceNode, datasetReferenceOf, modelVersionNode, parseNode } from './lineage-node';

describe('lineage node names', () => {
  it('reads each kind, and the project a name states', () => {
    expect(parseNode('datasets/d1/versions/3', 'node')).toEqual({ name: 'datasets/d1/versions/3', kind: LineageNodeKind.DATASET_VERSION });
    expect(parseNode('jobs/j1', 'node').kind).toBe(LineageNodeKind.JOB);
    expect(parseNode('runs/r1', 'node').kind).toBe(LineageNodeKind.RUN);
    expect(parseNode('projects/p1/models/a%2Fb/versions/2', 'node')).toEqual({ name: 'projects/p1/models/a%2Fb/versions/2', kind: LineageNodeKind.MODEL_VERSION, projectId: 'p1' });
    expect(parseNode('projects/p1/datasetReferences/churn@golden', 'node')).toMatchObject({ kind: LineageNodeKind.DATASET_VERSION, projectId: 'p1' });
  });

  it('refuses other names naming the field', () => {
    for (const bad of ['models/m', 'runs/', 'runs/a/b', 'datasets/d1/versions/0', 'datasets/d1/versions/x', 'projects/p1/models/m/versions/1/x', 'runs/%E0%A4%A']) {
      expect(() => parseNode(bad, 'edges[2].source')).toThrow(/^edges\[2\]\.source: not a lineage node/);
    }
    expect(() => parseNode('', 'node')).toThrow(/^node: is required/);
    expect(() => parseNode(`runs/${'r'.repeat(1100)}`, 'node')).toThrow(/^node: is 1105 characters; the limit is 1024/);
  });

  it('names model versions and references with their segments encoded', () => {
    expect(modelVersionNode('p1', 'team/model', 4n)).toBe('projects/p1/models/team%2Fmodel/versions/4');
    expect(parseNode(modelVersionNode('p1', 'team/model', 4n), 'node').kind).toBe(LineageNodeKind.MODEL_VERSION);
    expect(datasetReferenceNode('p1', 'churn/3')).toBe('projects/p1/datasetReferences/churn%2F3');
  });

  it('finds a datasets:/ reference in a source, plain or as the uri of a JSON source', () => {
    expect(datasetReferenceOf('datasets:/churn/3')).toEqual({ reference: 'churn/3', parsed: { datasetName: 'churn', version: 3 } });
    expect(datasetReferenceOf('{"uri": "datasets:/churn@golden"}')).toEqual({ reference: 'churn@golden', parsed: { datasetName: 'churn', tag: 'golden' } });
    expect(datasetReferenceOf('{"url": " datasets:/churn/1 "}')?.parsed).toEqual({ datasetName: 'churn', version: 1 });
    for (const other of ['s3://bucket/churn.csv', '{"uri": "s3://b/k"}', '{not json', 'datasets:/churn', 'datasets:/churn/0', 'datasets:/a/b/1', 'datasets:/churn@']) {
      expect(datasetReferenceOf(other)).toBeUndefined();
    }
  });
});
