import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { MIGRATIONS_BASELINE, currentMigrations, migrationBreaks, readBaseline, type MigrationRecord, type Migrations } from '../api/release-baselines';

// While one service is upgraded, the previous release of it still runs against the database the new
// one has migrated: a migration released after the last one must only expand the schema (docs/operations.md, "Releases").

const root = join(__dirname, '..', '..');

/** The comment by which a migration says why its contraction is safe: `// contract: <the release that stopped reading it>`. */
const CONTRACT_MARKER = /^[ \t]*\/\/[ \t]*contract:[ \t]*\S/m;

/** What a statement of raw SQL does that a running previous release may not survive, tested in order. */
const SQL_CONTRACTIONS: ReadonlyArray<{ does: string; test: (statement: string) => boolean }> = [
  { does: 'drops a table', test: (sql) => /\bDROP\s+TABLE\b/i.test(sql) },
  { does: 'renames a table or column', test: (sql) => alterTable(sql) && /\bRENAME\b(?!\s+CONSTRAINT\b)/i.test(sql) },
  // ALTER TABLE's DROP [COLUMN] <name>, not its DROP CONSTRAINT, nor a column's DROP DEFAULT, DROP NOT NULL, ...
  { does: 'drops a column', test: (sql) => alterTable(sql) && /\bDROP\s+(?!CONSTRAINT\b|DEFAULT\b|NOT\s+NULL\b|IDENTITY\b|EXPRESSION\b)/i.test(sql) },
  { does: "changes a column's type", test: (sql) => alterTable(sql) && /\bALTER\s+(COLUMN\s+)?\S+\s+(SET\s+DATA\s+)?TYPE\b/i.test(sql) },
  { does: 'makes a column NOT NULL', test: (sql) => alterTable(sql) && /\bSET\s+NOT\s+NULL\b/i.test(sql) },
  { does: 'adds a NOT NULL column without a default', test: (sql) => alterTable(sql) && addedColumns(sql).some(notNullWithoutDefault) },
];

const alterTable = (sql: string) => /\bALTER\s+TABLE\b/i.test(sql);

/** The clauses of an ALTER TABLE that add a column: the text after each ADD [COLUMN], up to the next ADD. */
function addedColumns(sql: string): string[] {
  return sql
    .split(/\bADD\b/i)
    .slice(1)
    .filter((clause) => !/^\s*(CONSTRAINT|PRIMARY|UNIQUE|FOREIGN|CHECK|INDEX)\b/i.test(clause));
}

const notNullWithoutDefault = (column: string) => /\bNOT\s+NULL\b/i.test(column) && !/\b(DEFAULT|GENERATED)\b/i.test(column);

/** QueryRunner methods that contract the schema, and what each does. */
const RUNNER_CONTRACTIONS: Readonly<Record<string, string>> = {
  dropTable: 'drops a table',
  dropColumn: 'drops a column',
  dropColumns: 'drops columns',
  renameTable: 'renames a table',
  renameColumn: 'renames a column',
  changeColumn: 'changes a column, which TypeORM drops and adds again when its type or length changes (on SQLite: re-creates its table)',
  changeColumns: 'changes columns, which TypeORM drops and adds again when their type or length changes (on SQLite: re-creates their table)',
};

/** The options of a column `runner.addColumn` is given inline (`new TableColumn({...})` or `{...}`), if it is. */
function inlineColumnOptions(argument: ts.Expression): ts.ObjectLiteralExpression | undefined {
  if (ts.isObjectLiteralExpression(argument)) return argument;
  if (ts.isNewExpression(argument) && argument.arguments?.length === 1 && ts.isObjectLiteralExpression(argument.arguments[0])) return argument.arguments[0];
  return undefined;
}

/** What adding `column` with the QueryRunner contracts: TypeORM's TableColumn is NOT NULL unless it says `isNullable: true`. */
function addedColumnContraction(column: ts.Expression): string | undefined {
  const options = inlineColumnOptions(column);
  if (!options) return 'adds a column the guard cannot read: pass it inline, as new TableColumn({ ... })';
  const property = (name: string) =>
    options.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && p.name.getText() === name)?.initializer;
  const isTrue = (name: string) => property(name)?.kind === ts.SyntaxKind.TrueKeyword;
  return isTrue('isNullable') || isTrue('isGenerated') || property('default') ? undefined : 'adds a NOT NULL column without a default';
}

/** The text of a string or template literal, each `${...}` read as `_`. */
function literalText(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return node.head.text + node.templateSpans.map((span) => `_${span.literal.text}`).join('');
  return undefined;
}

/** One thing a migration's `up` does that the previous release may not survive. */
interface Contraction {
  line: number;
  statement: string;
  does: string;
}

/**
 * What the migration file `source` does outside its `down` methods that contracts the schema: raw
 * SQL in its string literals, and QueryRunner calls. Nothing for a file carrying the contract marker.
 */
function contractions(source: string): Contraction[] {
  if (CONTRACT_MARKER.test(source)) return [];
  const file = ts.createSourceFile('migration.ts', source, ts.ScriptTarget.Latest, true);
  const found: Contraction[] = [];
  const report = (node: ts.Node, statement: string, does: string) =>
    found.push({ line: file.getLineAndCharacterOfPosition(node.getStart()).line + 1, statement: statement.replace(/\s+/g, ' ').trim(), does });
  const visit = (node: ts.Node): void => {
    if (ts.isMethodDeclaration(node) && node.name.getText() === 'down') return;
    const text = literalText(node);
    if (text !== undefined) {
      for (const statement of text.split(';')) {
        const contraction = SQL_CONTRACTIONS.find(({ test }) => test(statement));
        if (contraction) report(node, statement, contraction.does);
      }
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text;
      if (RUNNER_CONTRACTIONS[method]) report(node, node.getText(), RUNNER_CONTRACTIONS[method]);
      const columns = method === 'addColumn' ? node.arguments.slice(1, 2) : method === 'addColumns' ? columnList(node.arguments[1]) : [];
      for (const column of columns) {
        const does = addedColumnContraction(column);
        if (does) report(column, `${method}(${node.arguments[0]?.getText()}, ${column.getText()})`, does);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

const columnList = (argument: ts.Expression | undefined): ts.Expression[] => (argument && ts.isArrayLiteralExpression(argument) ? [...argument.elements] : argument ? [argument] : []);

const excerpt = (statement: string) => (statement.length > 120 ? `${statement.slice(0, 117)}...` : statement);

/** The contractions of every migration of `current` that `released` does not hold, one sentence each. */
function unreleasedContractions(released: Migrations, current: Migrations, read: (record: MigrationRecord) => string): string[] {
  return Object.entries(current)
    .filter(([name]) => !released[name])
    .flatMap(([name, record]) =>
      contractions(read(record)).map(
        ({ line, statement, does }) =>
          `${record.file}:${line} (${name}): \`${excerpt(statement)}\` ${does}, and the release before still runs against this database during a rollout: ` +
          'expand now, contract in a later release once no running version reads it. A file that must contract now says why in a `// contract: <the release that stopped reading it>` comment.',
      ),
    );
}

const readRepoFile = ({ file }: MigrationRecord) => readFileSync(join(root, file), 'utf8');

describe('migrations against the last release (tools/api/migrations-baseline.json)', () => {
  const released = readBaseline<Migrations>(MIGRATIONS_BASELINE);
  const current = currentMigrations();

  it('keeps every released migration as it was released, and sorts new ones after the released ones of their database', () => {
    expect(Object.keys(released).length).toBeGreaterThan(0);
    expect(migrationBreaks(released, current)).toEqual([]);
  });

  it('has migrations newer than the release only expand the schema', () => {
    expect(unreleasedContractions(released, current, readRepoFile)).toEqual([]);
  });

  it('reads the real migrations: of the released ones, it finds the contractions of exactly those that contract', () => {
    const flagged = Object.entries(released)
      .filter(([, record]) => contractions(readRepoFile(record)).length > 0)
      .map(([name]) => name);
    expect(Object.keys(released)).toContain('CreatePluginInstanceTables1767850000000');
    // The one drops tracking's project_settings; the other relaxes a column with changeColumn, which re-creates the table on SQLite.
    expect(flagged).toEqual(['WrapSigningKeys1767475000000', 'MoveArtifactStoreChoices1767860000000']);
  });
});

describe('the release guard on migrations', () => {
  const record = (lib: string, file: string, sha256 = 'a'): MigrationRecord => ({ lib, file, sha256 });
  const released: Migrations = {
    CreateRuns1700000000000: record('tracking', 'libs/tracking/src/migrations/1700000000000-create-runs.ts'),
    CreateKitTables1700000500000: record('platform', 'libs/platform/src/persistence/migrations/1700000500000-create-kit-tables.ts'),
    CreateModels1700001000000: record('registry', 'libs/registry/src/migrations/1700001000000-create-models.ts'),
  };

  it('names a released migration that was edited, moved, or removed or renamed', () => {
    const breaks = migrationBreaks(released, {
      CreateRuns1700000000000: { ...released.CreateRuns1700000000000, sha256: 'b' },
      CreateKitTables1700000500000: { ...released.CreateKitTables1700000500000, file: 'libs/platform/src/kit-tables.ts' },
      AddModels1700001000000: released.CreateModels1700001000000,
    });
    expect(breaks).toEqual([
      expect.stringMatching(/^migration CreateRuns1700000000000 \(libs\/tracking\/src\/migrations\/1700000000000-create-runs\.ts\) was released and has been edited since/),
      expect.stringMatching(/^migration CreateKitTables1700000500000 was released in .*1700000500000-create-kit-tables\.ts and is now in libs\/platform\/src\/kit-tables\.ts/),
      expect.stringMatching(/^migration CreateModels1700001000000 \(.*\) was released and is gone or renamed/),
    ]);
  });

  it("refuses a new migration that sorts before a released one of its service, or of the kit's, which run in every database", () => {
    const added = (name: string, lib: string): Migrations => ({ ...released, [name]: record(lib, `libs/${lib}/src/migrations/${name}.ts`) });
    expect(migrationBreaks(released, added('AddRunNote1699999999999', 'tracking'))).toEqual([
      expect.stringMatching(/^migration AddRunNote1699999999999 .* sorts before CreateKitTables1700000500000, .*Give it a timestamp after 1700000500000\.$/),
    ]);
    expect(migrationBreaks(released, added('AddKitColumn1700000900000', 'platform'))).toEqual([expect.stringContaining('sorts before CreateModels1700001000000')]);
    expect(migrationBreaks(released, added('AddRunNote1700000600000', 'tracking'))).toEqual([]);
  });
});

describe('the expand-only rule for migrations newer than the release', () => {
  const migration = (up: string, down = '', preamble = '') => `${preamble}import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

export class Change1800000000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
${up}
  }

  async down(runner: QueryRunner): Promise<void> {
${down}
  }
}
`;
  const does = (up: string) => contractions(migration(up)).map((found) => found.does);

  it('finds each contraction in raw SQL, naming its line and statement', () => {
    expect(contractions(migration(`    await runner.query('CREATE INDEX runs_state ON runs (state)');\n    await runner.query('ALTER TABLE runs DROP COLUMN note');`))).toEqual([
      { line: 6, statement: 'ALTER TABLE runs DROP COLUMN note', does: 'drops a column' },
    ]);
    expect(does("await runner.query('DROP TABLE IF EXISTS project_settings')")).toEqual(['drops a table']);
    expect(does('await runner.query(`ALTER TABLE ${table} DROP "note"`)')).toEqual(['drops a column']);
    expect(does("await runner.query('ALTER TABLE runs RENAME COLUMN note TO description')")).toEqual(['renames a table or column']);
    expect(does("await runner.query('ALTER TABLE runs_new RENAME TO runs')")).toEqual(['renames a table or column']);
    expect(does("await runner.query('ALTER TABLE runs ALTER COLUMN note TYPE text')")).toEqual(["changes a column's type"]);
    expect(does("await runner.query('ALTER TABLE runs ALTER COLUMN note SET DATA TYPE text')")).toEqual(["changes a column's type"]);
    expect(does("await runner.query('ALTER TABLE runs ALTER COLUMN note SET NOT NULL')")).toEqual(['makes a column NOT NULL']);
    expect(does("await runner.query('ALTER TABLE runs ADD COLUMN owner varchar(64) NOT NULL')")).toEqual(['adds a NOT NULL column without a default']);
    expect(does("await runner.query('ALTER TABLE runs ADD COLUMN a int NOT NULL DEFAULT 0, ADD COLUMN b int NOT NULL')")).toEqual(['adds a NOT NULL column without a default']);
  });

  it('finds each contraction made through the QueryRunner, TypeORM columns being NOT NULL unless they say otherwise', () => {
    expect(does("await runner.dropColumn('runs', 'note');")).toEqual(['drops a column']);
    expect(does("await runner.renameColumn('runs', 'note', 'description');")).toEqual(['renames a column']);
    expect(does("await runner.changeColumn('runs', 'note', new TableColumn({ name: 'note', type: 'text' }));")).toEqual([expect.stringMatching(/^changes a column, which TypeORM drops and adds again/)]);
    expect(does("await runner.dropTable('runs');")).toEqual(['drops a table']);
    expect(does("await runner.addColumn('runs', new TableColumn({ name: 'owner', type: 'varchar' }));")).toEqual(['adds a NOT NULL column without a default']);
    expect(does("await runner.addColumns('runs', [new TableColumn({ name: 'a', type: 'int', default: 0 }), { name: 'b', type: 'int' }]);")).toEqual([
      'adds a NOT NULL column without a default',
    ]);
    expect(does("await runner.addColumn('runs', column);")).toEqual(['adds a column the guard cannot read: pass it inline, as new TableColumn({ ... })']);
  });

  it('lets a migration expand: new tables, nullable columns, NOT NULL columns with a default, indexes, relaxed constraints', () => {
    const up = [
      "await runner.query('CREATE TABLE notes (id varchar(36) PRIMARY KEY, body text NOT NULL)');",
      "await runner.query('ALTER TABLE runs ADD COLUMN note text');",
      "await runner.query(`ALTER TABLE runs ADD COLUMN state varchar(16) NOT NULL DEFAULT 'NEW'`);",
      "await runner.query('ALTER TABLE runs ADD CONSTRAINT runs_state CHECK (state IS NOT NULL)');",
      "await runner.query('ALTER TABLE runs ALTER COLUMN owner DROP NOT NULL');",
      "await runner.query('ALTER TABLE runs DROP CONSTRAINT runs_owner_check');",
      "await runner.query('CREATE INDEX runs_state ON runs (state)');",
      "await runner.addColumn('runs', new TableColumn({ name: 'kms', type: 'varchar', isNullable: true }));",
      "await runner.addColumn('runs', new TableColumn({ name: 'placement', type: 'text', default: \"''\" }));",
    ].join('\n');
    expect(contractions(migration(up))).toEqual([]);
  });

  it('reads only what runs on the way up: a down method drops what its up created', () => {
    expect(contractions(migration("await runner.query('CREATE TABLE notes (id int)');", "await runner.query('DROP TABLE notes');"))).toEqual([]);
  });

  it('lets a migration contract when it says why in a contract comment, and names the rule and the way out otherwise', () => {
    const up = "await runner.query('ALTER TABLE runs DROP COLUMN note');";
    expect(contractions(migration(up, '', '// contract: nothing reads runs.note since 2027.1, which every running service has reached\n'))).toEqual([]);
    expect(contractions(migration(up, '', '// contract:\n'))).toHaveLength(1);
    const released: Migrations = {};
    const current: Migrations = { Change1800000000000: { lib: 'tracking', file: 'libs/tracking/src/migrations/1800000000000-change.ts', sha256: 'a' } };
    expect(unreleasedContractions(released, current, () => migration(up))).toEqual([
      'libs/tracking/src/migrations/1800000000000-change.ts:5 (Change1800000000000): `ALTER TABLE runs DROP COLUMN note` drops a column, and the release before still runs against this database during a rollout: ' +
        'expand now, contract in a later release once no running version reads it. A file that must contract now says why in a `// contract: <the release that stopped reading it>` comment.',
    ]);
  });
});
