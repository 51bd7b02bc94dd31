import { Writable } from 'node:stream';
import { createLogger, logFormatFor } from './logger';
import { formatLogLine } from './pretty-log';

describe('logs for a person at a terminal', () => {
  it('chooses readable lines on a terminal and JSON elsewhere, unless the setting says which', () => {
    expect(logFormatFor('auto', { isTTY: true })).toBe('pretty');
    expect(logFormatFor('auto', { isTTY: false })).toBe('json');
    expect(logFormatFor('auto', {})).toBe('json');
    expect(logFormatFor('json', { isTTY: true })).toBe('json');
    expect(logFormatFor('pretty', { isTTY: false })).toBe('pretty');
  });

  it('writes one line per entry: local time, level, the service in brackets, the message, then the other fields', () => {
    const time = '2026-12-04T20:10:52.844Z';
    const local = new Date(time);
    const clock = [local.getHours(), local.getMinutes(), local.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
    const line = JSON.stringify({ level: 30, time, pid: 7, service: 'governance', engine: 'postgres', database: 'trellis_governance', msg: 'database ready' });
    expect(formatLogLine(line)).toBe(`${clock}.844 INFO  [governance] database ready  engine=postgres database=trellis_governance\n`);
  });

  it('quotes values with spaces, shows objects as JSON, names plugin instances, and indents an error stack', () => {
    const line = JSON.stringify({
      level: 50,
      time: '2026-12-04T20:10:52.844Z',
      plugin: 'storage-fs',
      instance: 'default',
      reason: 'disk full now',
      sizes: { a: 1 },
      err: { type: 'Error', message: 'ENOSPC', stack: 'Error: ENOSPC\n    at write (fs.js:1:1)' },
      msg: 'write failed',
    });
    const [head, ...stack] = formatLogLine(line).trimEnd().split('\n');
    expect(head).toMatch(/ ERROR \[storage-fs:default\] write failed {2}reason="disk full now" sizes=\{"a":1\} err=ENOSPC$/);
    expect(stack).toEqual(['    Error: ENOSPC', '        at write (fs.js:1:1)']);
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(formatLogLine('plain text\n')).toBe('plain text\n');
  });

  it('gives a pretty logger whose lines are readable and still redact secrets', () => {
    const written: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'info', format: 'pretty', destination }).child({ service: 'tracking' });
    logger.info({ token: 'eyJhbGciOi', runs: 3 }, 'runs imported');
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/ INFO {2}\[tracking\] runs imported {2}token=\[redacted\] runs=3\n$/);
  });
});
