import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, Table, TableForeignKey, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Test-only: a service's own table, written with portable column types. */
@Entity('kit_widgets')
export class WidgetRow {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { length: 64 })
  name!: string;

  @Column('bigint')
  size!: string;
}

/** Test-only: a table with a foreign key to {@link WidgetRow}. */
@Entity('kit_widget_parts')
export class WidgetPartRow {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'widget_id', length: 36 })
  widgetId!: string;

  @ManyToOne(() => WidgetRow, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'widget_id' })
  widget?: WidgetRow;
}

/**
 * Test-only: what a consuming service records each time it acts on a WidgetCreated. Nothing in the
 * table stops a second row for the same widget, so acting twice shows.
 */
@Entity('kit_seen_widgets')
export class SeenWidgetRow {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'widget_id', length: 36 })
  widgetId!: string;

  @Column('varchar', { name: 'event_id', length: 36 })
  eventId!: string;
}

/** Test-only: the fixture tables, through TypeORM's Table API so one class runs on both engines. */
export class CreateKitWidgets1767312000000 implements MigrationInterface {
  name = 'CreateKitWidgets1767312000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(
      new Table({
        name: 'kit_widgets',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'varchar', length: '64' },
          { name: 'size', type: 'bigint' },
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'kit_widget_parts',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'widget_id', type: 'varchar', length: '36' },
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['widget_id'], referencedTableName: 'kit_widgets', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
        ],
      }),
    );
    await runner.createTable(
      new Table({
        name: 'kit_seen_widgets',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'widget_id', type: 'varchar', length: '36' },
          { name: 'event_id', type: 'varchar', length: '36' },
        ],
      }),
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropTable('kit_seen_widgets');
    await runner.dropTable('kit_widget_parts');
    await runner.dropTable('kit_widgets');
  }
}

/** Test-only: `openDatabase` entities and migrations for the fixture tables. */
export const widgetTables = {
  entities: [WidgetRow, WidgetPartRow, SeenWidgetRow],
  migrations: [CreateKitWidgets1767312000000],
};
