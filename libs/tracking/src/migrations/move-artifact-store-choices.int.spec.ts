import { CreatePluginInstanceTables1767850000000, openDatabase, PluginInstanceRepository } from '@trellis/platform';
import { createTestDatabase, testSqliteDatabase, type TestDatabase } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { CreateTrackingTables1767500000000 } from './1767500000000-create-tracking-tables';
import { MoveArtifactStoreChoices1767860000000 } from './1767860000000-move-artifact-store-choices';

describe.each(['postgres', 'sqlite'] as const)('MoveArtifactStoreChoices1767860000000 on %s', (kind) => {
  let database: TestDatabase<unknown>;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = kind === 'postgres' ? await createTestDatabase() : testSqliteDatabase();
    dataSource = await openDatabase({
      service: 'tracking',
      database: database.config as { type: 'postgres'; url: string } | { type: 'sqlite'; path: string },
      migrations: [CreateTrackingTables1767500000000, CreatePluginInstanceTables1767850000000],
    });
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it("keeps the storage instance each project chose before the kit kept choices, and drops tracking's own table", async () => {
    await dataSource.query(`INSERT INTO project_settings (project_id, artifact_store) VALUES ('p1', 'team-a'), ('p2', 'default')`);
    const runner = dataSource.createQueryRunner();
    try {
      await new MoveArtifactStoreChoices1767860000000().up(runner);
    } finally {
      await runner.release();
    }
    const choices = new PluginInstanceRepository(dataSource);
    expect([await choices.choiceOf('p1', 'storage'), await choices.choiceOf('p2', 'storage'), await choices.choiceOf('p3', 'storage')]).toEqual(['team-a', 'default', undefined]);
    await expect(dataSource.query('SELECT * FROM project_settings')).rejects.toThrow();
  });
});
