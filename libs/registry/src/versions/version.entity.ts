import { Column, Entity, PrimaryColumn } from 'typeorm';
import { AuthoredEntity } from '../common/authored.entity';

/** Whether a version's files are in place. */
export type VersionStatusName = 'PENDING' | 'READY' | 'FAILED';

/** A tensor of a model's signature, as stored (JSON). */
export interface StoredTensor {
  name: string;
  dtype: string;
  shape: number[];
}

/** The run a version came from, read once from tracking when the version was created. */
export interface StoredLineage {
  runId: string;
  experimentId: string;
  runName: string;
  datasets: Array<{ name: string; digest: string; sourceType: string; source: string; context: string }>;
}

/** One numbered version of a model. */
@Entity('model_versions')
export class ModelVersionEntity extends AuthoredEntity {
  @PrimaryColumn('integer', { name: 'model_id' })
  modelId!: number;

  @PrimaryColumn('integer')
  version!: number;

  @Column('text')
  source!: string;

  @Column('varchar', { name: 'run_id', length: 64, nullable: true })
  runId!: string | null;

  @Column('varchar', { length: 16 })
  status!: VersionStatusName;

  @Column('text', { name: 'status_message' })
  statusMessage!: string;

  @Column('varchar', { length: 64 })
  format!: string;

  @Column('simple-json', { nullable: true })
  signature!: { inputs: StoredTensor[]; outputs: StoredTensor[] } | null;

  @Column('text')
  description!: string;

  /** The link to its run the creator gave (MLflow's run_link); '' when none. */
  @Column('text', { name: 'run_link' })
  runLink!: string;

  /** Where the files are: the registry's copy, or the source itself for a version kept as a reference. */
  @Column('text', { name: 'storage_uri' })
  storageUri!: string;

  /**
   * The registry's storage instance holding the copy, the one its project chose when the version
   * was created, kept for life; null for a reference, whose files the registry does not keep.
   */
  @Column('varchar', { name: 'artifact_store', length: 64, nullable: true })
  artifactStore!: string | null;

  /** The KMS instance that encrypts the registry's copy, fixed when the version is created; null: stored in the clear, or no copy. */
  @Column('varchar', { name: 'artifact_kms', length: 64, nullable: true })
  artifactKms!: string | null;

  @Column('simple-json', { nullable: true })
  lineage!: StoredLineage | null;
}

/** A tag on a version; the last write wins. */
@Entity('version_tags')
export class VersionTagEntity {
  @PrimaryColumn('integer', { name: 'model_id' })
  modelId!: number;

  @PrimaryColumn('integer')
  version!: number;

  @PrimaryColumn('varchar', { length: 250 })
  key!: string;

  @Column('varchar', { length: 5000 })
  value!: string;
}
