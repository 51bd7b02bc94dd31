import { Router } from './router';

describe('Router', () => {
  const handler = () => undefined;

  it('prefers a literal segment to a parameter, and a parameter to a wildcard, whatever the order added', () => {
    const router = new Router()
      .add('GET', '/artifacts/*', handler)
      .add('GET', '/artifacts/:id/meta', handler)
      .add('GET', '/artifacts/list/meta', handler);
    const patternOf = (path: string) => {
      const match = router.match('GET', path);
      return match.kind === 'found' ? [match.route.pattern, match.params] : match.kind;
    };
    expect(patternOf('/artifacts/list/meta')).toEqual(['/artifacts/list/meta', {}]);
    expect(patternOf('/artifacts/a%20b/meta')).toEqual(['/artifacts/:id/meta', { id: 'a b' }]);
    expect(patternOf('/artifacts/a/b/c.txt')).toEqual(['/artifacts/*', { '*': 'a/b/c.txt' }]);
    expect(patternOf('/artifacts/list/other')).toEqual(['/artifacts/*', { '*': 'list/other' }]);
    expect(patternOf('/artifacts/')).toBe('not-found');
    expect(patternOf('/artifacts')).toBe('not-found');
  });

  it('names the wildcard when the pattern does', () => {
    const router = new Router().add('PUT', '/runs/:run/files/*path', handler);
    expect(router.match('PUT', '/runs/r1/files/dir/model.onnx')).toMatchObject({ params: { run: 'r1', path: 'dir/model.onnx' } });
  });

  it('answers method-not-allowed with every method the path has', () => {
    const router = new Router().add('GET', '/runs/:id', handler).add('DELETE', '/runs/:id', handler).add('PUT', '/runs/*', handler);
    expect(router.match('POST', '/runs/r1')).toEqual({ kind: 'method-not-allowed', allowed: ['GET', 'DELETE', 'PUT'] });
    expect(router.match('POST', '/jobs/r1')).toEqual({ kind: 'not-found' });
  });

  it('does not let a parameter match an empty segment', () => {
    const router = new Router().add('GET', '/runs/:id', handler);
    expect(router.match('GET', '/runs/').kind).toBe('not-found');
  });

  it('refuses a route registered twice, and a wildcard that is not last', () => {
    const router = new Router().add('GET', '/a/:x', handler);
    expect(() => router.add('GET', '/a/:y', handler)).toThrow('route GET /a/:y is already registered');
    expect(() => router.add('GET', '/a/*/b', handler)).toThrow('* must be the last segment');
  });

  it('throws URIError on a malformed percent-encoding of a parameter', () => {
    const router = new Router().add('GET', '/runs/:id', handler);
    expect(() => router.match('GET', '/runs/%E0%A4%A')).toThrow(URIError);
  });
});
