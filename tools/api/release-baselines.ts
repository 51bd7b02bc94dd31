import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

// What a release promises the next one keeps, so that one service can be upgraded while the others
// still run the release before: its event subjects and their message types, and its migrations as
// they were. tools/lint/event-schemas.spec.ts and migrations.spec.ts hold the tree to them, and
// tools/api/record-release-baselines.mjs records them at a release (docs/operations.md, "Releases").

const root = join(__dirname, '..', '..');

export const EVENTS_BASELINE = 'tools/api/events-baseline.json';
export const MIGRATIONS_BASELINE = 'tools/api/migrations-baseline.json';

/** Event subjects mapped to the full protobuf name of the message each carries. */
export type EventTypes = Record<string, string>;

/** The table part of an EventCatalog (libs/platform), as much of it as the guard reads. */
interface CatalogLike {
  table: Record<string, { typeName: string }>;
  subjects: readonly string[];
}

const isCatalog = (value: unknown): value is CatalogLike =>
  typeof value === 'object' && value !== null && 'table' in value && 'subjects' in value && Array.isArray((value as CatalogLike).subjects);

/**
 * The subjects of `catalogs` with their message types, sorted by subject.
 *
 * @throws if two catalogs declare one subject with different messages.
 */
export function eventTypesOf(catalogs: readonly CatalogLike[]): EventTypes {
  const types: EventTypes = {};
  for (const { table, subjects } of catalogs) {
    for (const subject of subjects) {
      const typeName = table[subject].typeName;
      if (types[subject] !== undefined && types[subject] !== typeName) {
        throw new Error(`event subject "${subject}" is declared twice, carrying ${types[subject]} and ${typeName}`);
      }
      types[subject] = typeName;
    }
  }
  return Object.fromEntries(Object.entries(types).sort(([a], [b]) => a.localeCompare(b)));
}

/** The event catalogs every service lib exports from `libs/<service>/src/<service>.events.ts` (the generator's layout). */
export async function currentEventTypes(): Promise<EventTypes> {
  const files = readdirSync(join(root, 'libs')).flatMap((lib) => {
    const src = join(root, 'libs', lib, 'src');
    return existsSync(src) ? readdirSync(src).filter((name) => name.endsWith('.events.ts')).map((name) => join(src, name)) : [];
  });
  const modules: Array<Record<string, unknown>> = await Promise.all(files.map((file) => import(file)));
  return eventTypesOf(modules.flatMap((exported) => Object.values(exported).filter(isCatalog)));
}

/** What `current` breaks of the subjects a release recorded in `released`: one sentence each, saying what to do instead. */
export function eventBreaks(released: EventTypes, current: EventTypes): string[] {
  return Object.entries(released).flatMap(([subject, typeName]) => {
    const now = current[subject];
    if (now === typeName) return [];
    const instead = 'to change what it carries, publish a new subject, or a v2 subject (trellis.<service>.v2.<entity>.<verb>), beside it';
    if (now === undefined) {
      return [`event subject "${subject}" was released carrying ${typeName} and is gone: consumers of that release still subscribe to it. Keep publishing it; ${instead}.`];
    }
    return [
      `event subject "${subject}" was released carrying ${typeName} and now carries ${now}: consumers of that release acknowledge and skip every event of another type. Keep ${typeName} on it; ${instead}.`,
    ];
  });
}

/** A migration as a release recorded it. */
export interface MigrationRecord {
  /** The lib it belongs to: a service, or `platform` for the kit's, which run in every service's database. */
  lib: string;
  /** Its file, from the repository root. */
  file: string;
  /** SHA-256 of the file's text with LF line endings. */
  sha256: string;
}

/** Migrations by class name (TypeORM records a migration by it), as a release recorded them. */
export type Migrations = Record<string, MigrationRecord>;

/** TypeORM reads a migration's timestamp from the last 13 characters of its name. */
export function timestampOf(name: string): number {
  const digits = /\d{13}$/.exec(name);
  if (!digits) throw new Error(`migration ${name} does not end in a 13-digit timestamp, from which TypeORM orders migrations`);
  return Number(digits[0]);
}

const MIGRATION_CLASS = /\bclass\s+(\w+)\s+implements\s+MigrationInterface\b/g;

/** Every production TypeScript file of `dir`: no specs, test fixtures or generated code. */
function productionFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return ['gen', 'test-fixtures'].includes(name) ? [] : productionFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

const sha256 = (text: string) => createHash('sha256').update(text.replace(/\r\n?/g, '\n')).digest('hex');

/** Every migration class in the libs' production sources, sorted by timestamp. */
export function currentMigrations(): Migrations {
  const found: Array<[string, MigrationRecord]> = [];
  for (const lib of readdirSync(join(root, 'libs'))) {
    const src = join(root, 'libs', lib, 'src');
    if (!existsSync(src)) continue;
    for (const path of productionFiles(src)) {
      const text = readFileSync(path, 'utf8');
      for (const [, name] of text.matchAll(MIGRATION_CLASS)) found.push([name, { lib, file: relative(root, path), sha256: sha256(text) }]);
    }
  }
  return Object.fromEntries(found.sort(([a], [b]) => timestampOf(a) - timestampOf(b) || a.localeCompare(b)));
}

/**
 * What `current` breaks of the migrations a release recorded in `released`: a released one edited,
 * renamed, moved or removed, or a new one that sorts before a released one of the same database
 * (the kit's run in every service's). One sentence each, saying what to do instead.
 */
export function migrationBreaks(released: Migrations, current: Migrations): string[] {
  const changed = Object.entries(released).flatMap(([name, was]) => {
    const now = current[name];
    if (now === undefined) {
      return [`migration ${name} (${was.file}) was released and is gone or renamed: databases that ran it keep its record, the others never get it. Put it back as it was and change the schema in a new migration.`];
    }
    if (now.file !== was.file) return [`migration ${name} was released in ${was.file} and is now in ${now.file}: move it back.`];
    if (now.sha256 !== was.sha256) {
      return [`migration ${name} (${was.file}) was released and has been edited since: databases that ran it will not run it again. Restore it and put the change in a new migration.`];
    }
    return [];
  });
  const misordered = Object.entries(current).flatMap(([name, { lib, file }]) => {
    if (released[name]) return [];
    // A released migration that is gone is reported above; ordering against it would say the same twice.
    const sameDatabase = Object.keys(released).filter((other) => current[other] && ([lib, 'platform'].includes(released[other].lib) || lib === 'platform'));
    const newest = sameDatabase.sort((a, b) => timestampOf(b) - timestampOf(a))[0];
    if (newest === undefined || timestampOf(name) > timestampOf(newest)) return [];
    return [
      `migration ${name} (${file}) sorts before ${newest}, which was released and runs in the same database: a database upgraded from that release would run it last, a new one before ${newest}. Give it a timestamp after ${timestampOf(newest)}.`,
    ];
  });
  return [...changed, ...misordered];
}

/** A committed baseline, parsed. */
export function readBaseline<T>(path: string): T {
  return JSON.parse(readFileSync(join(root, path), 'utf8')) as T;
}

/** Writes a baseline as the repository keeps JSON: two-space indent, a final newline. */
export function writeBaseline(path: string, value: unknown): void {
  writeFileSync(join(root, path), `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Records the tree's event subjects and migrations as released, unless the tree breaks what the
 * last release recorded (a release's record only grows): returns those breaks, having written nothing.
 */
export async function recordReleaseBaselines(): Promise<string[]> {
  const events = await currentEventTypes();
  const migrations = currentMigrations();
  const breaks = [...eventBreaks(readBaseline(EVENTS_BASELINE), events), ...migrationBreaks(readBaseline(MIGRATIONS_BASELINE), migrations)];
  if (breaks.length > 0) return breaks;
  writeBaseline(EVENTS_BASELINE, events);
  writeBaseline(MIGRATIONS_BASELINE, migrations);
  return [];
}
