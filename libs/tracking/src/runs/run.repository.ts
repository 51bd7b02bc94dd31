import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { DataSource, In, type EntityManager } from 'typeorm';
import type { LifecycleStageName } from '../experiments/experiment.entity';
import type { KeyValue } from './log-batch.validation';
import { RunEntity, RunInputEntity, RunParamEntity, RunTagEntity } from './run.entity';
import { buildRunSearchSql, type RunSearchQuery } from './run-search.query';

/** Ids per statement on SQLite, well under its limit of bound variables. */
const SQLITE_IN_LIMIT = 500;

/** A dataset input as the repository stores it, at its position in the run's inputs. */
export type NewRunInput = Omit<RunInputEntity, 'runId' | 'position'>;

/** What runs logged besides metrics, by run id; each run's params and tags by key, its inputs in logged order. */
export interface LoggedByRun {
  params: Map<string, KeyValue[]>;
  tags: Map<string, KeyValue[]>;
  inputs: Map<string, RunInputEntity[]>;
}

/** Runs, their params, tags and dataset inputs in the database; the only code of the feature that knows SQL. */
@Injectable()
export class RunRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The run, or null. With `lock`, inside `manager`'s transaction, its row stays locked until the
   * transaction ends (PostgreSQL; SQLite runs one write transaction at a time).
   */
  findById(id: string, manager: EntityManager = this.dataSource.manager, options: { lock?: boolean } = {}): Promise<RunEntity | null> {
    const lock = options.lock ? Dialect.of(manager).lockForUpdate<RunEntity>() : {};
    return manager.findOne(RunEntity, { where: { id }, ...lock });
  }

  /** The run's project, or undefined when there is no such run. */
  async projectOf(id: string): Promise<string | undefined> {
    const run = await this.dataSource.getRepository(RunEntity).findOne({ where: { id }, select: { id: true, projectId: true } });
    return run?.projectId;
  }

  /** The runs of `ids` in no particular order; missing ones are left out. */
  findByIds(ids: string[]): Promise<RunEntity[]> {
    return this.byIds(ids, (chunk) => this.dataSource.getRepository(RunEntity).findBy({ id: In(chunk) }));
  }

  async insert(manager: EntityManager, run: RunEntity, tags: KeyValue[]): Promise<void> {
    await manager.insert(RunEntity, run);
    await manager.insert(RunTagEntity, tags.map(({ key, value }) => ({ runId: run.id, key, value })));
  }

  /** Stores the run's status, end time and name. */
  async updateState(manager: EntityManager, run: RunEntity): Promise<void> {
    await manager.update(RunEntity, { id: run.id }, { status: run.status, endTime: run.endTime, name: run.name });
  }

  /** Deletes or restores the run by itself (no longer as part of its experiment). */
  async setStage(manager: EntityManager, id: string, stage: LifecycleStageName): Promise<void> {
    await manager.update(RunEntity, { id }, { lifecycleStage: stage, deletedWithExperiment: false });
  }

  /** Sets tags of the run; the last write of a key wins. */
  async setTags(manager: EntityManager, runId: string, tags: KeyValue[]): Promise<void> {
    await manager.upsert(RunTagEntity, tags.map(({ key, value }) => ({ runId, key, value })), ['runId', 'key']);
  }

  /** Deletes a tag of the run; false when it had none of that key. */
  async deleteTag(manager: EntityManager, runId: string, key: string): Promise<boolean> {
    const { affected } = await manager.delete(RunTagEntity, { runId, key });
    return !!affected;
  }

  /** The run's params of `keys` that it has. */
  async paramsOf(manager: EntityManager, runId: string, keys: string[]): Promise<KeyValue[]> {
    const rows = await manager.find(RunParamEntity, { where: { runId, key: In(keys) } });
    return rows.map(({ key, value }) => ({ key, value }));
  }

  /** Inserts params, leaving any key the run already has as it is. */
  async insertParamsIfAbsent(manager: EntityManager, runId: string, params: KeyValue[]): Promise<void> {
    await manager.createQueryBuilder().insert().into(RunParamEntity).values(params.map(({ key, value }) => ({ runId, key, value }))).orIgnore().execute();
  }

  /** The run's dataset inputs in logged order. */
  inputsOf(manager: EntityManager, runId: string): Promise<RunInputEntity[]> {
    return manager.find(RunInputEntity, { where: { runId }, order: { position: 'ASC' } });
  }

  /** Adds a dataset input at `position` and returns it. */
  async insertInput(manager: EntityManager, runId: string, position: number, input: NewRunInput): Promise<RunInputEntity> {
    const row = manager.create(RunInputEntity, { runId, position, ...input });
    await manager.insert(RunInputEntity, row);
    return row;
  }

  /** Stores an input's tags and context. */
  async updateInput(manager: EntityManager, input: RunInputEntity): Promise<void> {
    await manager.update(RunInputEntity, { runId: input.runId, position: input.position }, { tags: input.tags, context: input.context });
  }

  /** The params, tags and inputs of `runIds`. */
  async loggedBy(runIds: string[]): Promise<LoggedByRun> {
    const [params, tags, inputs] = await Promise.all([
      this.keyValuesOf('run_params', runIds),
      this.keyValuesOf('run_tags', runIds),
      this.byIds(runIds, (chunk) => this.dataSource.manager.find(RunInputEntity, { where: { runId: In(chunk) }, order: { position: 'ASC' } })),
    ]);
    const inputsByRun = new Map<string, RunInputEntity[]>();
    for (const input of inputs) inputsByRun.set(input.runId, [...(inputsByRun.get(input.runId) ?? []), input]);
    return { params, tags, inputs: inputsByRun };
  }

  /** The ids of one page of a run search, in order. */
  async searchIds(query: RunSearchQuery): Promise<string[]> {
    const { sql, parameters } = buildRunSearchSql(Dialect.of(this.dataSource), query);
    const rows: Array<{ id: string }> = await this.dataSource.query(sql, parameters);
    return rows.map((row) => row.id);
  }

  /**
   * The params or tags of some runs, by run, each run's by key, as one JSON array per run: a page
   * of 1000 runs has some 20,000 params, and parsing that many rows cost more than the query.
   */
  private async keyValuesOf(table: 'run_params' | 'run_tags', runIds: string[]): Promise<Map<string, KeyValue[]>> {
    const dialect = Dialect.of(this.dataSource);
    const parameters = dialect.parameters();
    const logged = dialect.aggregateInput(`SELECT run_id, key, value FROM ${table} WHERE ${parameters.inList('run_id', runIds)}`, 'run_id, key');
    const rows = (await this.dataSource.query(
      `SELECT run_id, ${dialect.jsonArrayAgg(dialect.jsonArray('key', 'value'), 'key')} AS pairs FROM ${logged} AS logged GROUP BY run_id`,
      parameters.values,
    )) as Array<{ run_id: string; pairs: string }>;
    const byRun = new Map<string, KeyValue[]>();
    for (const row of rows) byRun.set(row.run_id, (JSON.parse(row.pairs) as Array<[string, string]>).map(([key, value]) => ({ key, value })));
    return byRun;
  }

  /** Rows for many run ids: in chunks on SQLite, which binds at most 32,766 values a statement (a page may hold 50,000 runs). */
  private async byIds<T>(ids: string[], load: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
    if (Dialect.of(this.dataSource).isPostgres) return load(ids);
    const rows: T[] = [];
    for (let start = 0; start < ids.length; start += SQLITE_IN_LIMIT) rows.push(...(await load(ids.slice(start, start + SQLITE_IN_LIMIT))));
    return rows;
  }
}
