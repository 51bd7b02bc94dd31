import type { ValueTransformer } from 'typeorm';

/**
 * Times are stored as milliseconds since the epoch in bigint columns, the same on SQLite and
 * PostgreSQL (which returns bigint as a string).
 */
export const epochMillis: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};
