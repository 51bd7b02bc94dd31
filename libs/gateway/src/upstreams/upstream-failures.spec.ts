import { status } from '@grpc/grpc-js';
import { IdentityServiceDesc } from '@trellis/proto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startEchoGateway, type EchoGateway } from '../../test/echo-gateway';
import { EchoService } from '../../test/echo-service';
import { UpstreamFailureLog } from './upstream-failures';

/** A logger at info, as a process logs by default, whose lines land in `lines`. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

describe('logs of failed upstream calls', () => {
  let echo: EchoGateway;
  const { logger, lines } = capturingLogger();
  // Nothing listens on port 1.
  const down = '127.0.0.1:1';

  beforeAll(async () => (echo = await startEchoGateway({ logger, upstreams: { governance: down }, services: { governance: [IdentityServiceDesc] } })));
  afterAll(() => echo.close());

  const post = async (path: string, body: unknown, requestId: string) => {
    const response = await fetch(`${echo.base}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    });
    await response.body?.cancel();
    return response.status;
  };
  const linesOf = (requestId: string) => lines.filter((line) => line.requestId === requestId);

  it('logs an unreachable upstream at warn, with the upstream, its address, the method and the request id', async () => {
    expect(await post(`/v1/${IdentityServiceDesc.typeName}/ListProjects`, {}, 'req-down')).toBe(503);
    expect(linesOf('req-down')).toEqual([
      expect.objectContaining({
        level: 40,
        upstream: 'governance',
        address: down,
        method: `/${IdentityServiceDesc.typeName}/ListProjects`,
        code: 'UNAVAILABLE',
        msg: expect.stringMatching(/^\/trellis\.governance\.v1\.IdentityService\/ListProjects failed at the governance service with UNAVAILABLE: the governance service at 127\.0\.0\.1:1 .* is not answering/),
      }),
    ]);
  });

  it('logs an internal error of an upstream that answers', async () => {
    expect(await post(`/v1/${EchoService.typeName}/Echo`, { text: 'crash' }, 'req-crash')).toBe(500);
    expect(linesOf('req-crash')).toEqual([
      expect.objectContaining({ level: 40, upstream: 'echo', address: echo.echoAddress, code: 'INTERNAL', msg: expect.stringContaining('the echo broke') }),
    ]);
  });

  it('does not log what the upstream refused: a missing resource, a limit', async () => {
    expect(await post(`/v1/${EchoService.typeName}/Echo`, { text: 'missing' }, 'req-missing')).toBe(404);
    expect(await post(`/v1/${EchoService.typeName}/Echo`, { text: 'busy' }, 'req-busy')).toBe(429);
    expect([...linesOf('req-missing'), ...linesOf('req-busy')]).toEqual([]);
  });
});

describe('UpstreamFailureLog', () => {
  const upstream = { owner: 'tracking', address: '10.0.0.7:50052' };
  const failure = (requestId: string, code = status.UNAVAILABLE) => ({ upstream, method: '/trellis.tracking.v1.RunService/GetRun', requestId, code, details: 'down' });

  it('logs at most the burst per upstream, then says how many it left out on the next line', () => {
    let now = 0;
    const { logger, lines } = capturingLogger();
    const log = new UpstreamFailureLog(logger, { ratePerSecond: 1, burst: 2 }, () => now);
    for (const id of ['r1', 'r2', 'r3', 'r4', 'r5']) log.record(failure(id));
    log.record({ ...failure('other'), upstream: { owner: 'registry', address: '10.0.0.8:50053' } });
    expect(lines.map((line) => [line.upstream, line.requestId, line.suppressed])).toEqual([
      ['tracking', 'r1', undefined],
      ['tracking', 'r2', undefined],
      ['registry', 'other', undefined],
    ]);
    now += 1000;
    log.record(failure('r6', status.DEADLINE_EXCEEDED));
    log.record(failure('r7'));
    expect(lines.slice(3).map((line) => [line.requestId, line.code, line.suppressed])).toEqual([['r6', 'DEADLINE_EXCEEDED', 3]]);
  });

  it('ignores statuses that are not failures of the upstream', () => {
    const { logger, lines } = capturingLogger();
    const log = new UpstreamFailureLog(logger);
    for (const code of [status.OK, status.CANCELLED, status.NOT_FOUND, status.INVALID_ARGUMENT, status.PERMISSION_DENIED, status.RESOURCE_EXHAUSTED]) log.record(failure('r', code));
    expect(lines).toEqual([]);
  });
});
