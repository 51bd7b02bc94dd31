import { serviceVariable } from './service-section';

/** A setting that left the kit's schema for a service's section, and where it went. */
interface MovedSetting {
  /** The old key, and the variable that set it. */
  key: string;
  variable: string;
  /** The service whose section holds it now, and its key there. */
  service: string;
  to: string;
  /** What else changed on the way, when the value's form did. */
  note?: string;
}

/** Settings that only one service reads, moved from the kit's schema into that service's section (issue 11). */
const MOVED: readonly MovedSetting[] = [
  { key: 'auth.adminKey', variable: 'TRELLIS_ADMIN_KEY', service: 'governance', to: 'adminKey' },
  { key: 'auth.exchangesPerKeyPerSecond', variable: 'TRELLIS_AUTH_EXCHANGES_PER_KEY_PER_SECOND', service: 'governance', to: 'exchangesPerKeyPerSecond' },
  { key: 'auth.exchangesPerAddressPerSecond', variable: 'TRELLIS_AUTH_EXCHANGES_PER_ADDRESS_PER_SECOND', service: 'governance', to: 'exchangesPerAddressPerSecond' },
  { key: 'audit.checkpointEveryRecords', variable: 'TRELLIS_AUDIT_CHECKPOINT_EVERY_RECORDS', service: 'governance', to: 'checkpointEveryRecords' },
  { key: 'audit.checkpointEverySeconds', variable: 'TRELLIS_AUDIT_CHECKPOINT_EVERY_SECONDS', service: 'governance', to: 'checkpointEverySeconds' },
  {
    key: 'audit.checkpointKms',
    variable: '',
    service: 'governance',
    to: 'checkpointKms',
    note: 'which names a kms instance: declare the instance itself ({ plugin, config }) as the section kms.audit-checkpoints',
  },
];

/**
 * One line per moved setting that `raw` (the file) or `env` still sets, naming where it lives now,
 * so an old configuration fails instead of being silently ignored.
 */
export function movedSettingLines(raw: Record<string, unknown>, env: Record<string, string | undefined>): string[] {
  const lines: string[] = [];
  for (const moved of MOVED) {
    const now = `services.${moved.service}.${moved.to}`;
    if (hasPath(raw, moved.key)) lines.push(`  ${moved.key} (in the file): moved to ${now}${moved.note ? `, ${moved.note}` : ''}`);
    if (moved.variable && env[moved.variable] !== undefined && env[moved.variable] !== '') {
      lines.push(`  ${moved.variable}: moved to ${serviceVariable(moved.service, moved.to)} (${now})`);
    }
  }
  return lines;
}

function hasPath(raw: Record<string, unknown>, path: string): boolean {
  let node: unknown = raw;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}
