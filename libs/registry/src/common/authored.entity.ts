import { epochMillis } from '@trellis/platform';
import { Column } from 'typeorm';

/** Who created a model or version, and when it was created and last changed. */
export abstract class AuthoredEntity {
  @Column('varchar', { name: 'creator_id', length: 256 })
  creatorId!: string;

  @Column('bigint', { name: 'created_at', transformer: epochMillis })
  createdAt!: number;

  @Column('bigint', { name: 'updated_at', transformer: epochMillis })
  updatedAt!: number;
}
