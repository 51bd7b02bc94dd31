import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ProjectSettingsEntity } from './artifact.entity';

/** Which storage instance each project chose, in the database; the only code of the feature that knows SQL. */
@Injectable()
export class ArtifactRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The instance the project chose, or undefined when it chose none. */
  async storeNameOf(projectId: string): Promise<string | undefined> {
    const settings = await this.dataSource.getRepository(ProjectSettingsEntity).findOneBy({ projectId });
    return settings?.artifactStore;
  }

  async setStoreName(projectId: string, name: string): Promise<void> {
    await this.dataSource.transaction((manager) => manager.upsert(ProjectSettingsEntity, { projectId, artifactStore: name }, ['projectId']));
  }
}
