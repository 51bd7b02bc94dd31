import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { RunEntity } from '../runs/run.entity';
import { ExperimentEntity, ExperimentTagEntity, type LifecycleStageName } from './experiment.entity';
import { buildExperimentSearchSql, type ExperimentSearchQuery } from './experiment-search.query';

/** A key and a value of an experiment tag. */
export interface ExperimentTag {
  key: string;
  value: string;
}

/** Experiments and their tags in the database; the only code of the feature that knows SQL. */
@Injectable()
export class ExperimentRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The experiment with its tags, or null. */
  findById(id: number, manager: EntityManager = this.dataSource.manager): Promise<ExperimentEntity | null> {
    return manager.findOne(ExperimentEntity, { where: { id }, relations: { tags: true } });
  }

  /** The project's experiment of that name with its tags, or null. */
  findByName(projectId: string, name: string, manager: EntityManager = this.dataSource.manager): Promise<ExperimentEntity | null> {
    return manager.findOne(ExperimentEntity, { where: { projectId, name }, relations: { tags: true } });
  }

  /** The experiments of `ids` with their tags, in no particular order; missing ones are left out. */
  findByIds(ids: number[]): Promise<ExperimentEntity[]> {
    return this.dataSource.getRepository(ExperimentEntity).find({ where: ids.map((id) => ({ id })), relations: { tags: true } });
  }

  existsByName(manager: EntityManager, projectId: string, name: string): Promise<boolean> {
    return manager.existsBy(ExperimentEntity, { projectId, name });
  }

  /** Inserts an active experiment with its tags; its artifact location names its new id. */
  async insert(manager: EntityManager, input: { projectId: string; name: string; tags: ExperimentTag[] }): Promise<ExperimentEntity> {
    const now = Date.now();
    const saved = await manager.save(
      manager.create(ExperimentEntity, { projectId: input.projectId, name: input.name, artifactLocation: '', lifecycleStage: 'active', createdAt: now, updatedAt: now }),
    );
    saved.artifactLocation = `mlflow-artifacts:/${saved.id}`;
    await manager.update(ExperimentEntity, { id: saved.id }, { artifactLocation: saved.artifactLocation });
    const tags = input.tags.map((tag) => manager.create(ExperimentTagEntity, { experimentId: saved.id, ...tag }));
    if (tags.length > 0) await manager.upsert(ExperimentTagEntity, tags, ['experimentId', 'key']);
    saved.tags = tags;
    return saved;
  }

  async rename(manager: EntityManager, id: number, name: string): Promise<void> {
    await manager.update(ExperimentEntity, { id }, { name, updatedAt: Date.now() });
  }

  /**
   * Marks the experiment deleted with its active runs, or restores it with exactly the runs its
   * deletion marked.
   */
  async setStage(manager: EntityManager, id: number, stage: LifecycleStageName): Promise<void> {
    await manager.update(ExperimentEntity, { id }, { lifecycleStage: stage, updatedAt: Date.now() });
    if (stage === 'deleted') {
      await manager.update(RunEntity, { experimentId: id, lifecycleStage: 'active' }, { lifecycleStage: 'deleted', deletedWithExperiment: true });
    } else {
      await manager.update(RunEntity, { experimentId: id, deletedWithExperiment: true }, { lifecycleStage: 'active', deletedWithExperiment: false });
    }
  }

  /** Sets a tag (the last write wins) and the experiment's update time. */
  async setTag(manager: EntityManager, id: number, tag: ExperimentTag): Promise<void> {
    await manager.upsert(ExperimentTagEntity, { experimentId: id, ...tag }, ['experimentId', 'key']);
    await manager.update(ExperimentEntity, { id }, { updatedAt: Date.now() });
  }

  /** Deletes a tag and sets the experiment's update time; false when it had no such tag. */
  async deleteTag(manager: EntityManager, id: number, key: string): Promise<boolean> {
    const { affected } = await manager.delete(ExperimentTagEntity, { experimentId: id, key });
    if (!affected) return false;
    await manager.update(ExperimentEntity, { id }, { updatedAt: Date.now() });
    return true;
  }

  /** The ids of one page of an experiment search, in order. */
  async searchIds(query: ExperimentSearchQuery): Promise<number[]> {
    const { sql, parameters } = buildExperimentSearchSql(Dialect.of(this.dataSource), query);
    const rows: Array<{ id: number | string }> = await this.dataSource.query(sql, parameters);
    return rows.map((row) => Number(row.id));
  }
}
