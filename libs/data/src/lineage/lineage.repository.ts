import { Injectable } from '@nestjs/common';
import { Dialect, tableOf } from '@trellis/platform';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { DatasetEntity } from '../datasets/dataset.entity';
import { VersionEntity, VersionTagEntity } from '../versions/version.entity';
import type { DatasetReference } from './lineage-node';
import { LineageEdgeEntity, LineageNodeEntity } from './lineage.entity';

/** An edge met on a walk, with the node at its far end. */
export interface WalkedEdge {
  source: string;
  target: string;
  origin: string;
  createdAt: number;
  /** The far end's name, kind and project. */
  far: { name: string; kind: number; projectId: string };
}

/** Reads and writes lineage nodes and edges; the only part of the feature that knows the database. */
@Injectable()
export class LineageRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Adds the nodes not yet recorded. A recorded node keeps its kind and project, unless
   * `authoritative` (the service that owns the resource said where it is): then its project is set.
   */
  async insertNodes(tx: EntityManager, nodes: readonly LineageNodeEntity[], authoritative = false): Promise<void> {
    if (nodes.length === 0) return;
    const dialect = Dialect.of(tx);
    const sql = dialect.upsert(tableOf(tx, LineageNodeEntity), ['name', 'kind', 'project_id', 'created_at'], nodes.length, ['name'], authoritative ? ['project_id = excluded.project_id'] : []);
    await tx.query(sql, nodes.flatMap((node) => [node.name, node.kind, node.projectId, node.createdAt]));
  }

  /** Adds the edges not yet recorded and returns how many were new. */
  async insertEdges(tx: EntityManager, edges: readonly LineageEdgeEntity[]): Promise<number> {
    if (edges.length === 0) return 0;
    const dialect = Dialect.of(tx);
    const sql = dialect.upsert(tableOf(tx, LineageEdgeEntity), ['source', 'target', 'origin', 'creator_id', 'created_at'], edges.length, ['source', 'target']);
    const inserted: unknown[] = await tx.query(`${sql} RETURNING source`, edges.flatMap((edge) => [edge.source, edge.target, edge.origin, edge.creatorId, edge.createdAt]));
    return inserted.length;
  }

  /** The recorded nodes among `names`. */
  async nodes(tx: EntityManager, names: readonly string[]): Promise<LineageNodeEntity[]> {
    if (names.length === 0) return [];
    const parameters = Dialect.of(tx).parameters();
    const sql = `SELECT name, kind, project_id FROM ${tableOf(tx, LineageNodeEntity)} WHERE ${parameters.inList('name', names)}`;
    const rows: Array<{ name: string; kind: number | string; project_id: string }> = await tx.query(sql, parameters.values);
    return rows.map((row) => ({ name: row.name, kind: Number(row.kind), projectId: row.project_id, createdAt: 0 }));
  }

  /**
   * The edges one hop from `frontier`, upstream (edges into it) or downstream (edges out of it),
   * each with its far node; at most `limit` of them.
   */
  async hop(tx: EntityManager, frontier: readonly string[], upstream: boolean, limit: number): Promise<WalkedEdge[]> {
    const parameters = Dialect.of(tx).parameters();
    const [near, far] = upstream ? ['target', 'source'] : ['source', 'target'];
    const sql =
      `SELECT e.source, e.target, e.origin, e.created_at, n.kind, n.project_id FROM ${tableOf(tx, LineageEdgeEntity)} e ` +
      `JOIN ${tableOf(tx, LineageNodeEntity)} n ON n.name = e.${far} WHERE ${parameters.inList(`e.${near}`, frontier)} LIMIT ${parameters.bind(limit)}`;
    const rows: Array<{ source: string; target: string; origin: string; created_at: number | string; kind: number | string; project_id: string }> = await tx.query(sql, parameters.values);
    return rows.map((row) => ({
      source: row.source,
      target: row.target,
      origin: row.origin,
      createdAt: Number(row.created_at),
      far: { name: upstream ? row.source : row.target, kind: Number(row.kind), projectId: row.project_id },
    }));
  }

  /**
   * The dataset version a reference names in the project, as it stands now: `<name>/<n>` by the
   * live dataset of that name (the number is the version's identity, committed yet or not),
   * `<name>@<tag>` by the version the tag names now; undefined when the dataset or tag is not there.
   */
  async resolveReference(tx: EntityManager, projectId: string, reference: DatasetReference): Promise<{ datasetId: string; version: number } | undefined> {
    const dataset = await tx.findOneBy(DatasetEntity, { projectId, name: reference.datasetName, deletedAt: IsNull() });
    if (!dataset) return undefined;
    if (reference.version !== undefined) return { datasetId: dataset.id, version: reference.version };
    const tag = await tx.findOneBy(VersionTagEntity, { datasetId: dataset.id, tag: reference.tag });
    const version = tag ? await tx.findOneBy(VersionEntity, { id: tag.versionId, deletedAt: IsNull() }) : null;
    return version ? { datasetId: dataset.id, version: Number(version.number) } : undefined;
  }
}
