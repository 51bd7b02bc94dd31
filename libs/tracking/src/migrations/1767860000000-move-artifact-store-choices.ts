import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each project's choice of storage instance moves from tracking's project_settings to the kit's
 * plugin choices (the kit's CreatePluginInstanceTables1767850000000 runs first, by timestamp),
 * where SetArtifactStore and PluginInstanceService/SetProjectPluginInstance now keep it.
 */
export class MoveArtifactStoreChoices1767860000000 implements MigrationInterface {
  name = 'MoveArtifactStoreChoices1767860000000';

  async up(runner: QueryRunner): Promise<void> {
    const now = runner.connection.options.type === 'postgres' ? 'now()' : "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
    await runner.query(
      `INSERT INTO trellis_plugin_choices (project_id, kind, instance, update_time) SELECT project_id, 'storage', artifact_store, ${now} FROM project_settings`,
    );
    await runner.query('DROP TABLE project_settings');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE project_settings (project_id varchar(64) PRIMARY KEY, artifact_store varchar(64) NOT NULL)');
    await runner.query("INSERT INTO project_settings (project_id, artifact_store) SELECT project_id, instance FROM trellis_plugin_choices WHERE kind = 'storage'");
  }
}
