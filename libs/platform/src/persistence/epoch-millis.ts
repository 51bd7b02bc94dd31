import type { ValueTransformer } from 'typeorm';

/**
 * A TypeORM transformer for times kept as milliseconds since the epoch in bigint columns: the same
 * number on SQLite and PostgreSQL (whose driver returns bigint as a string).
 */
export const epochMillis: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};
