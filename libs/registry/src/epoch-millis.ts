/** Reads a bigint column (a string from PostgreSQL, a number from SQLite) as milliseconds. */
export const millisColumn = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};
