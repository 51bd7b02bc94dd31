import { checkManifestFile, checkPath, checkTag, parseReference, referenceOf } from './version-rules';

describe('version rules', () => {
  it('reads numbered and tagged references, names with / and @ included', () => {
    expect(parseReference('datasets:/churn/3')).toEqual({ datasetName: 'churn', version: 3 });
    expect(parseReference('datasets:/churn@golden')).toEqual({ datasetName: 'churn', tag: 'golden' });
    expect(parseReference('datasets:/team/churn@v1.2')).toEqual({ datasetName: 'team/churn', tag: 'v1.2' });
    expect(parseReference('datasets:/a@b/7')).toEqual({ datasetName: 'a@b', version: 7 });
    expect(parseReference(referenceOf('x', 12))).toEqual({ datasetName: 'x', version: 12 });
  });

  it('refuses references of another form, naming the field and the forms', () => {
    for (const bad of ['churn/3', 'datasets:/churn', 'datasets:/churn/0', 'datasets:/@tag', 'datasets:/churn@', 'datasets:/churn@12', 'runs:/x/1']) {
      expect(() => parseReference(bad)).toThrow(/^reference: .*datasets:\/<name>\/<version>/);
    }
  });

  it('refuses paths the storage key rules refuse', () => {
    expect(() => checkPath('data/train.csv', 'f')).not.toThrow();
    for (const bad of ['/abs', 'a/../b', 'a//b', 'a\u0001b', 'x'.repeat(1025), './a']) expect(() => checkPath(bad, 'put[0].path')).toThrow(/^put\[0\]\.path: /);
  });

  it('refuses a digest that is not 64 lowercase hex characters and a negative size', () => {
    const file = { path: 'a', size: 1, sha256: 'a'.repeat(64), mediaType: 'text/csv' };
    expect(() => checkManifestFile(file, 'put[0]')).not.toThrow();
    expect(() => checkManifestFile({ ...file, sha256: 'A'.repeat(64) }, 'put[0]')).toThrow('put[0].sha256');
    expect(() => checkManifestFile({ ...file, size: -1 }, 'put[0]')).toThrow('put[0].size_bytes');
  });

  it('takes tags of letters, digits, dots, dashes and underscores, never only digits', () => {
    expect(() => checkTag('v1.2', 'tag')).not.toThrow();
    expect(() => checkTag('golden', 'tag')).not.toThrow();
    for (const bad of ['', '12', 'a b', 'a/b', 'x'.repeat(129)]) expect(() => checkTag(bad, 'tag')).toThrow(/^tag: /);
  });
});
