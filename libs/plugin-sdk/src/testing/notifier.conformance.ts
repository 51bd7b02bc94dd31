import type { Alert, Notifier } from '../contracts';

/** An alert as the receiver saw it, decoded back into the fields of `Alert` it carries (`at` as a Date or an ISO 8601 string). */
export type ReceivedAlert = Pick<Alert, 'id' | 'status' | 'severity' | 'title' | 'source' | 'labels'> & Partial<Pick<Alert, 'summary' | 'url'>> & { at?: Date | string };

/**
 * The far end of a notifier, for its conformance suite: an HTTP server for a webhook notifier, a
 * mailbox for an email one. It decodes what arrived into alerts, and can refuse deliveries.
 */
export interface NotifierReceiver {
  /** Each delivery the receiver accepted, in order of arrival, decoded (duplicates included). */
  received(): readonly ReceivedAlert[] | Promise<readonly ReceivedAlert[]>;
  /** Makes the receiver refuse every delivery (a webhook answers 500) until called with undefined. */
  refuse(reason: string | undefined): void | Promise<void>;
  /** Stops the receiver at the end of a test. */
  close?(): Promise<void> | void;
}

/** Makes a notifier and the receiver it delivers to, for one test; called before every test. */
export type NotifierFactory = () => Promise<{ notifier: Notifier; receiver: NotifierReceiver }> | { notifier: Notifier; receiver: NotifierReceiver };

/**
 * The notifier contract's conformance suite (v1). A notifier plugin's spec calls it with a factory
 * of a notifier and the receiver it is configured to deliver to; it uses jest's globals. The suite
 * checks what the receiver got once `deliver` resolved: no waiting, no timers.
 *
 * @example
 * describeNotifierConformance('notifier-webhook', async () => {
 *   const receiver = await startWebhookReceiver(); // an HTTP server that records and decodes posts
 *   return { receiver, notifier: await plugin.create(createTestContext(), { url: receiver.url }) };
 * });
 */
export function describeNotifierConformance(name: string, factory: NotifierFactory): void {
  describe(`notifier conformance (v1): ${name}`, () => {
    let notifier: Notifier;
    let receiver: NotifierReceiver;
    let alerts = 0;

    /** A firing alert with every field set, its id unique to the test. */
    const alert = (overrides: Partial<Alert> = {}): Alert => ({
      id: `conformance-${process.pid}-${++alerts}`,
      status: 'firing',
      severity: 'warning',
      title: 'Feature drift on churn-model: tenure',
      summary: 'PSI 0.31 over the last hour (threshold 0.2)',
      source: 'monitoring/monitor/churn-drift',
      labels: { project: 'default', model: 'churn', feature: 'tenure' },
      url: 'https://trellis.example/monitors/churn-drift',
      at: new Date('2026-12-05T01:02:03.000Z'),
      ...overrides,
    });

    beforeEach(async () => {
      ({ notifier, receiver } = await factory());
    });

    afterEach(async () => {
      await notifier.close?.();
      await receiver.close?.();
    });

    it('has the alert at the receiver once deliver resolves, with its id, status, severity, title, source and labels', async () => {
      const sent = alert();
      await notifier.deliver(sent);
      const got = await receiver.received();
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ id: sent.id, status: 'firing', severity: 'warning', title: sent.title, source: sent.source, labels: sent.labels });
      if (got[0].at !== undefined) expect(new Date(got[0].at).getTime()).toBe(sent.at.getTime());
      if (got[0].summary !== undefined) expect(got[0].summary).toBe(sent.summary);
      if (got[0].url !== undefined) expect(got[0].url).toBe(sent.url);
    });

    it('passes the same id through each time an alert is delivered again, so the receiver can drop the duplicate', async () => {
      const sent = alert();
      await notifier.deliver(sent);
      await notifier.deliver(sent);
      expect((await receiver.received()).map((a) => a.id)).toEqual([sent.id, sent.id]);
    });

    it('keeps the ids of different alerts apart, and delivers a resolution as resolved', async () => {
      const firing = alert({ severity: 'critical' });
      const resolved = alert({ status: 'resolved', severity: 'critical' });
      await notifier.deliver(firing);
      await notifier.deliver(resolved);
      expect((await receiver.received()).map((a) => [a.id, a.status, a.severity])).toEqual([
        [firing.id, 'firing', 'critical'],
        [resolved.id, 'resolved', 'critical'],
      ]);
    });

    it('carries every severity and labels with unusual characters unchanged', async () => {
      const labels = { 'team/ml': 'Vision & Speech', emoji: '😀', quote: 'say "hi"', empty: '' };
      for (const severity of ['info', 'warning', 'critical'] as const) await notifier.deliver(alert({ severity, labels }));
      const got = await receiver.received();
      expect(got.map((a) => a.severity)).toEqual(['info', 'warning', 'critical']);
      for (const one of got) expect(one.labels).toEqual(labels);
    });

    it('delivers an alert without its optional fields', async () => {
      const { summary: _summary, url: _url, ...bare } = alert();
      await notifier.deliver(bare);
      expect(await receiver.received()).toEqual([expect.objectContaining({ id: bare.id, title: bare.title })]);
    });

    it('rejects when the receiver refuses, and delivers again once it accepts', async () => {
      const sent = alert();
      await receiver.refuse('receiver down for the test');
      await expect(notifier.deliver(sent)).rejects.toThrow();
      expect(await receiver.received()).toEqual([]);
      await receiver.refuse(undefined);
      await notifier.deliver(sent);
      expect((await receiver.received()).map((a) => a.id)).toEqual([sent.id]);
    });

    it('rejects, delivering nothing, when its signal has already aborted', async () => {
      const controller = new AbortController();
      controller.abort(new Error('shutting down'));
      await expect(notifier.deliver(alert(), { signal: controller.signal })).rejects.toThrow();
      expect(await receiver.received()).toEqual([]);
    });
  });
}
