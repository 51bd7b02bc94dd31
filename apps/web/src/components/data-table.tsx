import type { ReactNode } from 'react';

/** One column of a DataTable. */
export interface Column<Row> {
  key: string;
  header: ReactNode;
  cell(row: Row): ReactNode;
  /** Set when the column can be sorted: the table says so and calls onSort with this key. */
  sortable?: boolean;
  align?: 'left' | 'right';
}

export interface Sort {
  key: string;
  descending: boolean;
}

/**
 * A table of rows for people: headers that sort when clicked (the page sorts, usually on the
 * server), and a line that says so when there is nothing to show.
 */
export function DataTable<Row>({
  columns,
  rows,
  rowKey,
  sort,
  onSort,
  empty = 'Nothing here yet.',
  label,
}: {
  columns: ReadonlyArray<Column<Row>>;
  rows: readonly Row[];
  rowKey(row: Row): string;
  sort?: Sort;
  onSort?(sort: Sort): void;
  empty?: ReactNode;
  /** The table's accessible name. */
  label: string;
}) {
  return (
    <div className="table-wrap">
      <table aria-label={label}>
        <thead>
          <tr>
            {columns.map((column) => {
              const sorted = sort?.key === column.key;
              const ariaSort = sorted ? (sort.descending ? 'descending' : 'ascending') : undefined;
              return (
                <th key={column.key} scope="col" aria-sort={ariaSort} className={column.align === 'right' ? 'num' : undefined}>
                  {column.sortable && onSort ? (
                    <button type="button" className="link sort" onClick={() => onSort({ key: column.key, descending: sorted ? !sort.descending : true })}>
                      {column.header}
                      <span aria-hidden="true">{sorted ? (sort.descending ? ' ▼' : ' ▲') : ''}</span>
                    </button>
                  ) : (
                    column.header
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length} className="muted">
                {empty}
              </td>
            </tr>
          ) : (
            rows.map((row) => (
              <tr key={rowKey(row)}>
                {columns.map((column) => (
                  <td key={column.key} className={column.align === 'right' ? 'num' : undefined}>
                    {column.cell(row)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
