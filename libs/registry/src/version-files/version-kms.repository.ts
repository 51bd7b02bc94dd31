import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ModelVersionEntity } from '../versions/version.entity';

/** Reads which KMS instance encrypts a version's copy; the only SQL of the version files. */
@Injectable()
export class VersionKmsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The version's KMS instance (null: its copy is in the clear); undefined when there is no such version. */
  async kmsOf(modelId: number, version: number): Promise<string | null | undefined> {
    const row = await this.dataSource.getRepository(ModelVersionEntity).findOne({ where: { modelId, version }, select: { modelId: true, artifactKms: true } });
    return row ? row.artifactKms : undefined;
  }
}
