import type { AlertJson, AlertRuleJson, MonitorJson, WindowResultJson } from '@trellis/proto/trellis/monitoring/v1/resources_pb';
import { seedUser } from '@trellis/testing';
import { EXIT } from './exit-codes';
import { DRIFTING_COLUMN, seedDriftingMonitor, WINDOW_ROWS, type DriftingMonitor } from '../test/monitoring-seed';
import { jsonOf, runCli } from '../test/run-cli';

describe('trellis monitors and alerts', () => {
  let seeded: DriftingMonitor;
  /** `trellis <args> --project <the seeded project>`, as the admin unless `apiKey` says otherwise. */
  const trellis = (args: string[], apiKey?: string) => runCli([...args, '--project', seeded.projectName], { apiKey });

  beforeAll(async () => {
    // An endpoint whose second window drifts in f0 only, and the rule's alert firing.
    seeded = await seedDriftingMonitor('cli-monitors');
  });

  it("lists the project's monitors, and shows one by its endpoint's name with its columns and last windows", async () => {
    const listed = jsonOf<MonitorJson[]>(await trellis(['monitors', 'list', '-o', 'json']));
    expect(listed.map(({ name, state, windowsClosed }) => ({ name, state, windowsClosed }))).toEqual([{ name: seeded.monitorName, state: 'MONITOR_STATE_ACTIVE', windowsClosed: '2' }]);
    const table = await trellis(['monitors', 'list']);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+ID\s+WATCHES\s+STATE\s+WINDOW\s+WINDOWS$/);
    expect(table.stdout).toMatch(new RegExp(`${seeded.monitorName}\\s+${seeded.monitorId}\\s+endpoint churn\\s+active\\s+${WINDOW_ROWS} rows\\s+2`));

    const shown = await trellis(['monitors', 'show', seeded.endpointName]);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toMatch(/^reference: +lineage: models:\/churn\/1, run \w+, training input datasets:\/churn\/1$/m);
    expect(shown.stdout).toMatch(/^f0 +numeric +input x\[0\] +ks +0\.05$/m);
    // The last windows: 1 like the training data, 2 with f0 shifted.
    expect(shown.stdout).toMatch(/^1 +\S+ +50 +none +no$/m);
    expect(shown.stdout).toMatch(/^2 +\S+ +50 +1: f0 +no$/m);
    const json = jsonOf<{ monitor: MonitorJson; windows: WindowResultJson[] }>(await trellis(['monitors', 'show', seeded.monitorId, '--last', '1', '-o', 'json']));
    expect({ name: json.monitor.name, windows: json.windows.map(({ number }) => number) }).toEqual({ name: seeded.monitorName, windows: ['2'] });
  });

  it("shows a column's verdict in each window, and refuses a column the monitor does not score, naming those it does", async () => {
    const windows = jsonOf<WindowResultJson[]>(await trellis(['monitors', 'windows', seeded.monitorName, '--column', DRIFTING_COLUMN, '-o', 'json']));
    expect(windows.map(({ number, columns }) => ({ number, columns: columns?.map(({ column, detector, drifted }) => ({ column, detector, drifted })) }))).toEqual([
      { number: '1', columns: [{ column: DRIFTING_COLUMN, detector: 'ks', drifted: false }] },
      { number: '2', columns: [{ column: DRIFTING_COLUMN, detector: 'ks', drifted: true }] },
    ]);
    const table = await trellis(['monitors', 'windows', seeded.monitorName, '--drifted']);
    expect(table.stdout.split('\n')[0]).toMatch(/^WINDOW\s+START\s+COLUMN\s+DETECTOR\s+STATISTIC\s+VALUE\s+THRESHOLD\s+VERDICT$/);
    expect(table.stdout.trim().split('\n').slice(1)).toEqual([expect.stringMatching(/^2 +\S+ +f0 +ks +1 +0 \(p-value\) +0\.05 +drifted$/)]);

    const unknown = await trellis(['monitors', 'windows', seeded.monitorName, '--column', 'age']);
    expect(unknown.code).toBe(EXIT.invalidArgument);
    expect(unknown.stderr).toContain('scores no column "age"; it scores: f0, f1, f2');
    const missing = await trellis(['monitors', 'show', 'no-such-monitor']);
    expect(missing.code).toBe(EXIT.notFound);
    expect(missing.stderr).toContain('trellis monitors list');
  });

  it('lists the open alert with its rule and summary, and the rule that raised it', async () => {
    const open = jsonOf<AlertJson[]>(await trellis(['alerts', 'list', '--open', '-o', 'json']));
    expect(open).toEqual([expect.objectContaining({ id: seeded.alertId, ruleName: seeded.ruleName, state: 'ALERT_STATE_FIRING', severity: 'ALERT_SEVERITY_CRITICAL', windowNumber: '2' })]);
    const table = await trellis(['alerts', 'list', '--monitor', seeded.monitorName]);
    expect(table.stdout).toMatch(new RegExp(`^firing +critical +${seeded.monitorName} +${seeded.ruleName} +2 +\\S+ +${escape(seeded.alertSummary)}$`, 'm'));
    expect(jsonOf<AlertJson[]>(await trellis(['alerts', 'list', '--state', 'resolved', '-o', 'json']))).toEqual([]);

    const rules = await trellis(['alerts', 'rules', 'list']);
    expect(rules.stdout).toMatch(new RegExp(`^${seeded.ruleId} +${seeded.monitorName} +${seeded.ruleName} +f0 p-value < 0\\.05 +0s +critical`, 'm'));
  });

  it('creates a monitor and a rule, lists the rule, and deletes both', async () => {
    const created = jsonOf<MonitorJson>(
      await trellis(['monitors', 'create', 'first-rows', '--endpoint', seeded.endpointName, '--reference-rows', '100', '--window-rows', '20', '--detector', 'f0=psi:0.2', '-o', 'json']),
    );
    expect(created).toMatchObject({
      name: 'first-rows',
      state: 'MONITOR_STATE_PENDING',
      stateMessage: 'waiting for the first 100 logged rows, the reference',
      reference: { logWindow: { rows: '100' } },
      window: { rows: '20' },
      detectors: [{ column: 'f0', detector: 'psi', threshold: 0.2 }],
    });

    const rule = jsonOf<AlertRuleJson>(await trellis(['alerts', 'rules', 'create', 'first-rows', 'half-drifted', '--drift-share', '0.5', '--for', '10m', '--severity', 'info', '-o', 'json']));
    expect(rule).toMatchObject({ monitorId: created.id, name: 'half-drifted', driftShare: { atLeast: 0.5 }, forSeconds: '600', severity: 'ALERT_SEVERITY_INFO' });
    expect(jsonOf<AlertRuleJson[]>(await trellis(['alerts', 'rules', 'list', 'first-rows', '-o', 'json'])).map(({ id }) => id)).toEqual([rule.id]);

    expect(await trellis(['alerts', 'rules', 'delete', rule.id ?? ''])).toMatchObject({ code: 0, stdout: `Deleted rule ${rule.id}.\n` });
    expect(jsonOf<AlertRuleJson[]>(await trellis(['alerts', 'rules', 'list', 'first-rows', '-o', 'json']))).toEqual([]);
    expect(await trellis(['monitors', 'delete', 'first-rows'])).toMatchObject({ code: 0, stdout: `Deleted monitor first-rows (${created.id}).\n` });
    expect((await trellis(['monitors', 'show', created.id ?? ''])).code).toBe(EXIT.notFound);
  });

  it('refuses what a command cannot send before asking, and what a viewer may not do', async () => {
    const neither = await trellis(['monitors', 'create', 'nothing']);
    expect(neither.code).toBe(EXIT.usage);
    expect(neither.stderr).toContain('give exactly one of --endpoint <name>');
    const twoConditions = await trellis(['alerts', 'rules', 'create', seeded.monitorName, 'two', '--drift-share', '0.5', '--missing-rate', '0.1']);
    expect(twoConditions.code).toBe(EXIT.usage);
    expect(twoConditions.stderr).toContain('give exactly one condition');
    const badShare = await trellis(['alerts', 'rules', 'create', seeded.monitorName, 'bad', '--drift-share', '1.5']);
    expect(badShare.code).toBe(EXIT.usage);
    expect(badShare.stderr).toContain('--drift-share "1.5" must be a number above 0 and at most 1');

    const { apiKey } = await seedUser(seeded.projectId, 'viewer', 'cli-monitors-viewer');
    expect((await trellis(['alerts', 'list', '-o', 'json'], apiKey)).code).toBe(0);
    const refused = await trellis(['monitors', 'create', 'mine', '--endpoint', seeded.endpointName], apiKey);
    expect(refused.code).toBe(EXIT.permissionDenied);
    expect(refused.stderr).toContain("Your role does not allow this");
  });

  it('has help with an example on every monitors and alerts command', async () => {
    for (const command of [['monitors', 'list'], ['monitors', 'show'], ['monitors', 'windows'], ['monitors', 'create'], ['monitors', 'delete'], ['alerts', 'list'], ['alerts', 'rules', 'list'], ['alerts', 'rules', 'create'], ['alerts', 'rules', 'delete'], ['alerts', 'notifiers']]) {
      const help = await runCli([...command, '--help']);
      expect({ command, code: help.code, example: /\nExamples?:\n {2}trellis /.test(help.stdout) }).toEqual({ command, code: 0, example: true });
    }
  });
});

/** `text` as a regular expression that matches it literally. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
