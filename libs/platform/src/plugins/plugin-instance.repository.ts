import type { PluginKind } from '@trellis/plugin-sdk';
import type { DataSource } from 'typeorm';
import { Dialect } from '../persistence/dialect';
import { PLUGIN_CHOICES_TABLE, PLUGIN_INSTANCES_TABLE } from './plugin-instance-tables.migration';

/** An instance created through a service's API, as its database keeps it. */
export interface StoredInstance {
  kind: PluginKind;
  name: string;
  plugin: string;
  /** The config as given, secrets wrapped or as references; never a plain secret. */
  config: unknown;
  createTime: Date;
  /** The principal that created it. */
  creator: string;
}

interface InstanceRow {
  kind: string;
  name: string;
  plugin: string;
  config: string;
  create_time: string | Date;
  creator: string;
}

/** The SQL of the kit's plugin instance tables (see CreatePluginInstanceTables1767850000000). */
export class PluginInstanceRepository {
  private readonly dialect: Dialect;

  constructor(private readonly dataSource: DataSource) {
    this.dialect = Dialect.of(dataSource);
  }

  /** The stored instances of `kind`, by name. */
  async list(kind: PluginKind): Promise<StoredInstance[]> {
    const rows = (await this.dataSource.query(
      `SELECT kind, name, plugin, config, create_time, creator FROM ${PLUGIN_INSTANCES_TABLE} WHERE kind = ${this.dialect.placeholder(1)} ORDER BY name`,
      [kind],
    )) as InstanceRow[];
    return rows.map(toStored);
  }

  /** The stored instance of `kind` named `name`, if any. */
  async find(kind: PluginKind, name: string): Promise<StoredInstance | undefined> {
    const rows = (await this.dataSource.query(
      `SELECT kind, name, plugin, config, create_time, creator FROM ${PLUGIN_INSTANCES_TABLE} WHERE kind = ${this.dialect.placeholder(1)} AND name = ${this.dialect.placeholder(2)}`,
      [kind, name],
    )) as InstanceRow[];
    return rows[0] && toStored(rows[0]);
  }

  /** Stores a new instance; a name taken in the kind fails with the database's unique violation. */
  async insert(instance: StoredInstance): Promise<void> {
    const p = (index: number) => this.dialect.placeholder(index);
    await this.write(`INSERT INTO ${PLUGIN_INSTANCES_TABLE} (kind, name, plugin, config, create_time, creator) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)})`, [
      instance.kind,
      instance.name,
      instance.plugin,
      JSON.stringify(instance.config),
      instance.createTime.toISOString(),
      instance.creator,
    ]);
  }

  /** Removes the stored instance; removing a missing one does nothing. */
  async delete(kind: PluginKind, name: string): Promise<void> {
    await this.write(`DELETE FROM ${PLUGIN_INSTANCES_TABLE} WHERE kind = ${this.dialect.placeholder(1)} AND name = ${this.dialect.placeholder(2)}`, [kind, name]);
  }

  /** The instance of `kind` the project chose, if it chose one. */
  async choiceOf(projectId: string, kind: PluginKind): Promise<string | undefined> {
    const rows = (await this.dataSource.query(
      `SELECT instance FROM ${PLUGIN_CHOICES_TABLE} WHERE project_id = ${this.dialect.placeholder(1)} AND kind = ${this.dialect.placeholder(2)}`,
      [projectId, kind],
    )) as Array<{ instance: string }>;
    return rows[0]?.instance;
  }

  /** Makes `instance` the project's choice of `kind`, replacing any earlier choice. */
  async setChoice(projectId: string, kind: PluginKind, instance: string): Promise<void> {
    const sql = this.dialect.upsert(PLUGIN_CHOICES_TABLE, ['project_id', 'kind', 'instance', 'update_time'], 1, ['project_id', 'kind'], [
      'instance = excluded.instance',
      'update_time = excluded.update_time',
    ]);
    await this.write(sql, [projectId, kind, instance, new Date().toISOString()]);
  }

  // On SQLite a write outside a transaction could land in another caller's open transaction.
  private async write(sql: string, parameters: unknown[]): Promise<void> {
    await this.dataSource.transaction((manager) => manager.query(sql, parameters));
  }

  /** Up to `limit` projects that chose the instance, by id. */
  async projectsUsing(kind: PluginKind, instance: string, limit: number): Promise<string[]> {
    const rows = (await this.dataSource.query(
      `SELECT project_id FROM ${PLUGIN_CHOICES_TABLE} WHERE kind = ${this.dialect.placeholder(1)} AND instance = ${this.dialect.placeholder(2)} ORDER BY project_id LIMIT ${Math.max(1, Math.floor(limit))}`,
      [kind, instance],
    )) as Array<{ project_id: string }>;
    return rows.map((row) => row.project_id);
  }
}

function toStored(row: InstanceRow): StoredInstance {
  return {
    kind: row.kind as PluginKind,
    name: row.name,
    plugin: row.plugin,
    config: JSON.parse(row.config) as unknown,
    createTime: new Date(row.create_time),
    creator: row.creator,
  };
}
