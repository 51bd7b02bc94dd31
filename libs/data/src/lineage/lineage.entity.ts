import { epochMillis } from '@trellis/platform';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A lineage node: a dataset version, job, run or model version, by resource name, in the project it was first recorded in. */
@Entity('lineage_nodes')
export class LineageNodeEntity {
  @PrimaryColumn('varchar', { length: 1024 })
  name!: string;

  /** LineageNodeKind's number. */
  @Column('smallint')
  kind!: number;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;
}

/** A lineage edge: `target` was made from (or by) `source`; kept once, whoever records it again. */
@Entity('lineage_edges')
@Index('lineage_edges_target_source', ['target', 'source'])
export class LineageEdgeEntity {
  @PrimaryColumn('varchar', { length: 1024 })
  source!: string;

  @PrimaryColumn('varchar', { length: 1024 })
  target!: string;

  /** The event subject that recorded it, or RecordLineage. */
  @Column('varchar', { length: 128 })
  origin!: string;

  @Column('varchar', { name: 'creator_id', length: 256 })
  creatorId!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;
}
