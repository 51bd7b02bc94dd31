import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Alert, pause, type PluginLogger } from '@trellis/plugin-sdk';
import { type SignedReceiver, startSignedReceiver } from '../test/signed-receiver';
import { readDeadLetters } from './dead-letters';
import { type WebhookDependencies, WebhookNotifier, type WebhookOptions } from './webhook-notifier';

const secret = 'whsec-spec-0123456789abcdef';
const alert: Alert = {
  id: 'a-1',
  status: 'firing',
  severity: 'critical',
  title: 'Feature drift on churn-model: tenure',
  summary: 'PSI 0.31 over the last hour',
  source: 'monitoring/monitor/churn-drift',
  labels: { project: 'default', model: 'churn' },
  url: 'https://trellis.example/monitors/churn-drift',
  at: new Date('2026-12-05T01:02:03.000Z'),
};
const sentBody = JSON.stringify({ ...alert, at: '2026-12-05T01:02:03.000Z' });

let receiver: SignedReceiver;
beforeEach(async () => {
  receiver = await startSignedReceiver(secret);
});
afterEach(() => receiver.close());

/** A notifier posting to the receiver, whose waits are recorded (and skipped) and whose clock stands still. */
function notifierFor(options: Partial<WebhookOptions> = {}, dependencies: Partial<WebhookDependencies> = {}) {
  const sleeps: number[] = [];
  const logs: string[] = [];
  const log = (obj: object, msg?: string) => void logs.push(`${JSON.stringify(obj)} ${msg ?? ''}`);
  const logger: PluginLogger = { debug: log, info: log, warn: log, error: log };
  const now = new Date();
  const config: WebhookOptions = {
    url: receiver.url,
    secret,
    timeoutMs: 5000,
    maxAttempts: 3,
    backoff: { initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0 },
    headers: {},
    dataDir: mkdtempSync(join(tmpdir(), 'notifier-webhook-')),
    logger,
    ...options,
  };
  const notifier = new WebhookNotifier(config, {
    sleep: async (ms) => void sleeps.push(ms),
    deadline: (ms) => AbortSignal.timeout(ms),
    random: () => 0,
    now: () => now,
    ...dependencies,
  });
  return { notifier, sleeps, logs, now, dataDir: config.dataDir, host: new URL(config.url).host };
}

describe('WebhookNotifier', () => {
  it('posts the documented body with its delivery id and extra headers, signed so the receiver verifies it', async () => {
    const { notifier } = notifierFor({ headers: { 'x-tenant': 'acme' } });
    await notifier.deliver(alert);
    expect(receiver.arrived).toHaveLength(1);
    const [request] = receiver.arrived;
    expect(request.signed).toBe(true);
    expect(request.body).toBe(sentBody);
    expect(Object.keys(JSON.parse(request.body) as object)).toEqual(['id', 'status', 'severity', 'title', 'summary', 'source', 'labels', 'url', 'at']);
    expect(request.headers).toMatchObject({ 'content-type': 'application/json', 'trellis-delivery': 'a-1', 'x-tenant': 'acme' });
  });

  it('tries again after 503, 429 and 408, waiting longer each time, and resolves once accepted', async () => {
    const { notifier, sleeps } = notifierFor({ maxAttempts: 4 });
    receiver.plan({ status: 503 }, { status: 429 }, { status: 408 });
    await notifier.deliver(alert);
    expect(receiver.arrived).toHaveLength(4);
    expect(await receiver.received()).toEqual([JSON.parse(sentBody)]);
    expect(sleeps).toEqual([100, 200, 400]);
    expect(await notifier.deadLetters()).toEqual([]);
  });

  it('takes jitter off each wait from the random source it is given', async () => {
    const { notifier, sleeps } = notifierFor({ backoff: { initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0.5 } }, { random: () => 0.5 });
    receiver.plan({ status: 503 }, { status: 503 });
    await notifier.deliver(alert);
    expect(sleeps).toEqual([75, 150]);
  });

  it('waits what Retry-After asks, up to backoff.maxMs', async () => {
    const { notifier, sleeps } = notifierFor({ backoff: { initialMs: 100, maxMs: 30_000, multiplier: 2, jitter: 0 } });
    receiver.plan({ status: 503, headers: { 'retry-after': '7' } }, { status: 429, headers: { 'retry-after': '3600' } });
    await notifier.deliver(alert);
    expect(sleeps).toEqual([7000, 30_000]);
  });

  it('gives up at once on a 400, keeping a dead letter, and names the answer and the host but not the path', async () => {
    const { notifier, sleeps, now, dataDir, host } = notifierFor();
    receiver.plan({ status: 400, body: 'bad  payload:\n labels missing' });
    const refused = notifier.deliver(alert);
    await expect(refused).rejects.toThrow(`alert a-1 was not delivered to the webhook at ${host} after 1 attempt, kept as a dead letter: it answered 400: bad payload: labels missing`);
    await expect(refused).rejects.not.toThrow('s3cr3t-path');
    expect(receiver.arrived).toHaveLength(1);
    expect(sleeps).toEqual([]);
    const letter = { alert: JSON.parse(sentBody), receiver: host, attempts: 1, lastStatus: 400, lastError: 'answered 400: bad payload: labels missing', at: now.toISOString() };
    expect(await notifier.deadLetters()).toEqual([letter]);
    expect(await readDeadLetters(dataDir)).toEqual([letter]);
  });

  it('takes a redirect as a final answer, so the signed alert goes nowhere else', async () => {
    const { notifier } = notifierFor();
    receiver.plan({ status: 302, headers: { location: 'https://elsewhere.example/hook' } });
    await expect(notifier.deliver(alert)).rejects.toThrow(/after 1 attempt, kept as a dead letter: it answered 302$/);
    expect(receiver.arrived).toHaveLength(1);
  });

  it('keeps a dead letter after the last of maxAttempts tries, and the dead letters outlive the instance', async () => {
    const { notifier, dataDir } = notifierFor();
    receiver.refuse('down for maintenance');
    await expect(notifier.deliver(alert)).rejects.toThrow(/after 3 attempts, kept as a dead letter: it answered 500: down for maintenance$/);
    expect(receiver.arrived).toHaveLength(3);
    const restarted = notifierFor({ dataDir }).notifier;
    await expect(restarted.deliver({ ...alert, id: 'a-2' })).rejects.toThrow(/alert a-2 .* after 3 attempts/);
    expect((await restarted.deadLetters()).map((letter) => [letter.alert.id, letter.attempts, letter.lastStatus, letter.lastError])).toEqual([
      ['a-1', 3, 500, 'answered 500: down for maintenance'],
      ['a-2', 3, 500, 'answered 500: down for maintenance'],
    ]);
  });

  it('counts a receiver that does not answer within timeoutMs as a failed try, and tries again', async () => {
    // The first try's time runs out once the receiver holds its request; later tries have all the time they need.
    const deadlines = [new AbortController(), new AbortController()];
    const { notifier } = notifierFor({}, { deadline: () => (deadlines.shift() as AbortController).signal });
    const firstDeadline = deadlines[0];
    receiver.plan('hang');
    const delivery = notifier.deliver(alert);
    await receiver.arrivals(1);
    firstDeadline.abort(new DOMException('timed out', 'TimeoutError'));
    await delivery;
    expect(receiver.arrived).toHaveLength(2);
    expect(await receiver.received()).toHaveLength(1);
  });

  it('keeps a dead letter without a status when the last try timed out', async () => {
    const { notifier } = notifierFor({ timeoutMs: 100, maxAttempts: 1 });
    receiver.plan('hang');
    await expect(notifier.deliver(alert)).rejects.toThrow(/after 1 attempt, kept as a dead letter: it did not answer within 100 ms$/);
    const [letter] = await notifier.deadLetters();
    expect(letter).toMatchObject({ attempts: 1, lastError: 'did not answer within 100 ms' });
    expect(letter).not.toHaveProperty('lastStatus');
  });

  it('stops at once, keeping no dead letter, when aborted while a request is in flight', async () => {
    const { notifier } = notifierFor();
    receiver.plan('hang');
    const controller = new AbortController();
    const delivery = notifier.deliver(alert, { signal: controller.signal });
    await receiver.arrivals(1);
    controller.abort(new Error('shutting down'));
    await expect(delivery).rejects.toThrow('shutting down');
    expect(receiver.arrived).toHaveLength(1);
    expect(await notifier.deadLetters()).toEqual([]);
  });

  it('stops when aborted while it waits to try again', async () => {
    const controller = new AbortController();
    const { notifier } = notifierFor({}, { sleep: (ms, signal) => (controller.abort(new Error('shutting down')), pause(ms, signal)) });
    receiver.plan({ status: 503 });
    await expect(notifier.deliver(alert, { signal: controller.signal })).rejects.toThrow('shutting down');
    expect(receiver.arrived).toHaveLength(1);
    expect(await notifier.deadLetters()).toEqual([]);
  });

  it('stops when the host shuts the instance down', async () => {
    const instance = new AbortController();
    const { notifier } = notifierFor({ signal: instance.signal });
    receiver.plan('hang');
    const delivery = notifier.deliver(alert);
    await receiver.arrivals(1);
    instance.abort(new Error('instance closed'));
    await expect(delivery).rejects.toThrow('instance closed');
  });

  it('reports a receiver it cannot reach, and never logs or throws the secret', async () => {
    const { url } = receiver;
    await receiver.close();
    const { notifier, logs } = notifierFor({ url, maxAttempts: 2 });
    const refused = notifier.deliver(alert);
    await expect(refused).rejects.toThrow(/after 2 attempts, kept as a dead letter: it could not be reached \(ECONNREFUSED\)$/);
    await expect(refused).rejects.not.toThrow(secret);
    expect(logs).toHaveLength(3);
    for (const line of logs) expect(line).not.toContain(secret);
  });
});
