import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The test service's one table. */
@Entity('widgets')
export class WidgetEntity {
  @PrimaryColumn('varchar', { length: 36 })
  id!: string;

  @Column('varchar', { name: 'project_id', length: 64 })
  projectId!: string;

  @Column('varchar', { length: 64 })
  name!: string;

  @Column('bigint')
  size!: string;
}
