import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RegisteredModelEntity } from '../models/model.entity';
import { ModelVersionEntity } from '../versions/version.entity';

/** A version whose copy was under way, by its model's project and key. */
export interface PendingCopy {
  projectId: string;
  modelId: number;
  version: number;
}

/** The status writes of version copies; the only part of the feature that knows the database. */
@Injectable()
export class VersionFileRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Marks every PENDING version FAILED with `message`, in one transaction, and returns which they were. */
  failPending(message: string): Promise<PendingCopy[]> {
    return this.dataSource.transaction(async (tx) => {
      const rows: Array<{ modelId: number | string; version: number | string; projectId: string }> = await tx
        .createQueryBuilder(ModelVersionEntity, 'v')
        .innerJoin(RegisteredModelEntity, 'm', 'm.id = v.model_id')
        .select(['v.model_id AS "modelId"', 'v.version AS "version"', 'm.project_id AS "projectId"'])
        .where("v.status = 'PENDING'")
        .getRawMany();
      await tx.update(ModelVersionEntity, { status: 'PENDING' }, { status: 'FAILED', statusMessage: message, updatedAt: Date.now() });
      return rows.map((row) => ({ projectId: row.projectId, modelId: Number(row.modelId), version: Number(row.version) }));
    });
  }
}
