import { checkDurableName, checkSubject, subjectMatches } from './subject-match';

describe('subjectMatches', () => {
  it.each([
    ['trellis.tracking.v1.run.finished', 'trellis.tracking.v1.run.finished', true],
    ['trellis.tracking.v1.run.*', 'trellis.tracking.v1.run.finished', true],
    ['trellis.*.v1.run.finished', 'trellis.tracking.v1.run.finished', true],
    ['trellis.tracking.>', 'trellis.tracking.v1.run.finished', true],
    ['trellis.>', 'trellis.tracking', true],
    ['trellis.tracking.v1.run.*', 'trellis.tracking.v1.run', false],
    ['trellis.tracking.v1.run.*', 'trellis.tracking.v1.run.finished.late', false],
    ['trellis.tracking.>', 'trellis.tracking', false],
    ['trellis.tracking.v1.run.finished', 'trellis.tracking.v1.run', false],
    ['trellis.tracking.v1.run', 'trellis.tracking.v1.run.finished', false],
    ['trellis.tracking.v1.run.finished', 'trellis.registry.v1.run.finished', false],
  ])('%s against %s: %s', (pattern, subject, expected) => {
    expect(subjectMatches(pattern, subject)).toBe(expected);
  });
});

describe('checkSubject', () => {
  it('accepts wildcards only in patterns', () => {
    expect(() => checkSubject('trellis.tracking.v1.run.*', { wildcards: true })).not.toThrow();
    expect(() => checkSubject('trellis.>', { wildcards: true })).not.toThrow();
    expect(() => checkSubject('trellis.tracking.v1.run.*', { wildcards: false })).toThrow(
      '"trellis.tracking.v1.run.*" is not a valid event subject: dot-separated non-empty tokens, without wildcards',
    );
  });

  it.each(['trellis..run', 'trellis.run.', 'trellis.>.run', 'trellis.ru*n', 'trellis.run finished', ''])('rejects %j', (subject) => {
    expect(() => checkSubject(subject, { wildcards: true })).toThrow('is not a valid event subject pattern');
  });
});

describe('checkDurableName', () => {
  it('accepts letters, digits, dashes and underscores and nothing else', () => {
    expect(() => checkDurableName('monitoring-run_finished2')).not.toThrow();
    expect(() => checkDurableName('monitoring.run')).toThrow('durable name "monitoring.run" must be letters, digits, - and _ only');
  });
});
