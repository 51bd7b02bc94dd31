import { openDatabase } from '@trellis/platform';
import { createTestDatabase, eventually } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { governanceService } from '../governance.definition';
import { IdentityRepository } from './identity.repository';

describe('IdentityRepository on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataSource: DataSource;
  let repository: IdentityRepository;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await openDatabase({ service: 'governance', database: database.config, entities: governanceService.entities, migrations: governanceService.migrations });
    repository = new IdentityRepository(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  /** Sessions of this database waiting for a row lock another transaction holds. */
  async function waitingForLocks(): Promise<number> {
    const [{ waiting }] = (await dataSource.query(
      "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )) as Array<{ waiting: number }>;
    return waiting;
  }

  it('makes a second count of the owners wait for a transaction removing one, then count one fewer, so two owners cannot both leave', async () => {
    await repository.transaction(async (tx) => {
      await repository.insertRoleBinding(tx, { projectId: 'p-owners', principalId: 'alice', role: 'owner' });
      await repository.insertRoleBinding(tx, { projectId: 'p-owners', principalId: 'bob', role: 'owner' });
    });
    let finishRemoval!: () => void;
    const removalMayFinish = new Promise<void>((resolve) => (finishRemoval = resolve));
    let removed!: () => void;
    const ownerRemoved = new Promise<void>((resolve) => (removed = resolve));

    const removal = repository.transaction(async (tx) => {
      const owners = await repository.countOwnersForUpdate(tx, 'p-owners');
      await repository.deleteRoleBinding(tx, 'p-owners', 'alice');
      removed();
      await removalMayFinish;
      return owners;
    });
    await ownerRemoved;
    const secondCount = repository.transaction((tx) => repository.countOwnersForUpdate(tx, 'p-owners'));

    await eventually(async () => expect(await waitingForLocks()).toBe(1));
    finishRemoval();

    expect(await removal).toBe(2);
    expect(await secondCount).toBe(1);
  });
});
