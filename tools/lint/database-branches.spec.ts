import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');

/** Libs that are the kit or its helpers, where the database layer itself lives. */
const KIT_LIBS = ['platform', 'plugin-sdk', 'proto', 'testing'];

/** What branches on the database: the connection's driver, or the kit's Dialect asked which one it is. */
const DATABASE_BRANCH = /\.options\.type\b|\.isPostgres\b|Dialect\.(of|named)\(/;

/**
 * Files that may know the database: repositories, SQL builders (`*-sql.ts`), migrations and test
 * fixtures (which create tables by hand). Specs may too: they run on both databases.
 */
function mayKnowDatabase(path: string): boolean {
  return /\.repository\.ts$|-sql\.ts$|\.spec\.ts$/.test(path) || /\/(migrations|test-fixtures)\//.test(path);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'gen' ? [] : sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The files of services' libs and apps that branch on the database outside the places allowed. */
function databaseBranchesOutsideRepositories(files: ReadonlyArray<{ path: string; text: string }>): string[] {
  return files.filter(({ path, text }) => !mayKnowDatabase(path) && DATABASE_BRANCH.test(text)).map(({ path }) => path);
}

describe('database branches', () => {
  it('live only in repositories, SQL builders and migrations of the services (docs/architecture.md)', () => {
    const projects = [
      ...readdirSync(join(root, 'libs')).filter((lib) => !KIT_LIBS.includes(lib)).map((lib) => join(root, 'libs', lib, 'src')),
      ...readdirSync(join(root, 'apps')).map((app) => join(root, 'apps', app, 'src')),
    ].filter(existsSync);
    const files = projects.flatMap(sourceFiles).map((path) => ({ path: relative(root, path), text: readFileSync(path, 'utf8') }));
    expect(files.length).toBeGreaterThan(100);
    expect(databaseBranchesOutsideRepositories(files)).toEqual([]);
  });

  it('names a service file that asks which database it runs on', () => {
    const files = [
      { path: 'libs/x/src/runs/run.service.ts', text: "if (this.dataSource.options.type === 'postgres') {}" },
      { path: 'libs/x/src/runs/run.grpc.ts', text: 'const lock = Dialect.of(manager).isPostgres;' },
      { path: 'libs/x/src/runs/run.repository.ts', text: 'const dialect = Dialect.of(this.dataSource);' },
      { path: 'libs/x/src/migrations/1-create.ts', text: 'runner.connection.options.type' },
    ];
    expect(databaseBranchesOutsideRepositories(files)).toEqual(['libs/x/src/runs/run.service.ts', 'libs/x/src/runs/run.grpc.ts']);
  });
});
