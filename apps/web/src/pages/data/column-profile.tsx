import type { ColumnProfileJson, FileProfileJson } from '@trellis/proto/trellis/data/v1/profile_service_pb';
import { DataTable } from '../../components/data-table';
import { enumLabel, formatNumber } from '../../components/format';
import { Histogram } from '../../components/histogram';
import { Fields, Panel } from '../../components/page';

const STATUS_BADGE: Record<string, string> = {
  PROFILE_STATUS_READY: 'badge good',
  PROFILE_STATUS_FAILED: 'badge bad',
  PROFILE_STATUS_PENDING: 'badge warn',
};
/** Categories shown per column: the most frequent (the profile keeps 50). */
const TOP_CATEGORIES = 10;

/** One file's profile: its status, rows, and a card per column. */
export function FileProfile({ file }: { file: FileProfileJson }) {
  return (
    <Panel
      title={
        <>
          {file.path} <span className={STATUS_BADGE[file.status ?? ''] ?? 'badge'}>{enumLabel(file.status, 'PROFILE_STATUS_')}</span>
        </>
      }
    >
      {file.message ? <p className="muted">{file.message}</p> : null}
      {file.status === 'PROFILE_STATUS_READY' ? (
        <>
          <p className="muted">
            {enumLabel(file.format, 'TABULAR_FORMAT_')} · {Number(file.rows ?? 0).toLocaleString()} rows
            {Number(file.invalidRows ?? 0) > 0 ? ` · ${Number(file.invalidRows).toLocaleString()} invalid rows left out` : ''}
          </p>
          <div className="card-grid">
            {(file.columns ?? []).map((column) => (
              <ColumnProfile key={column.name} file={file.path ?? ''} column={column} />
            ))}
          </div>
        </>
      ) : null}
    </Panel>
  );
}

/** A column: numeric ones as a histogram with their statistics, strings and booleans as their most frequent values. */
function ColumnProfile({ file, column }: { file: string; column: ColumnProfileJson }) {
  const type = enumLabel(column.type, 'COLUMN_TYPE_');
  const histogram = column.histogram;
  const categories = column.categories;
  return (
    <section className="column-profile" aria-label={`Column ${column.name}`}>
      <h3>
        {column.name} <span className="badge">{type}</span>
      </h3>
      <Fields
        fields={[
          ['Count', formatNumber(column.count)],
          ['Missing', formatNumber(column.missing)],
          ...(column.min !== undefined ? ([['Min', formatNumber(column.min)], ['Max', formatNumber(column.max)], ['Mean', formatNumber(column.mean)], ['Std dev', formatNumber(column.stddev)]] as Array<[string, string]>) : []),
          ...(column.minText ? ([['Smallest', column.minText], ['Largest', column.maxText ?? '']] as Array<[string, string]>) : []),
        ]}
      />
      {histogram?.counts?.length ? (
        <Histogram
          label={`Histogram of ${column.name} in ${file}: ${histogram.counts.length} bins from ${formatNumber(histogram.edges?.[0])} to ${formatNumber(histogram.edges?.[histogram.edges.length - 1])}`}
          bins={histogram.counts.map((count, index) => ({ lower: Number(histogram.edges?.[index] ?? 0), upper: Number(histogram.edges?.[index + 1] ?? 0), count: Number(count) }))}
        />
      ) : null}
      {categories?.counts?.length ? (
        <DataTable
          label={`Most frequent values of ${column.name} in ${file}`}
          rows={[...categories.counts.slice(0, TOP_CATEGORIES), ...otherRow(column)]}
          rowKey={(category) => category.value ?? ''}
          columns={[
            { key: 'value', header: 'Value', cell: (category) => category.value },
            { key: 'count', header: 'Count', align: 'right', cell: (category) => formatNumber(category.count) },
          ]}
        />
      ) : null}
    </section>
  );
}

/** The values beyond the ones shown, as one row (the profile's other_count and the top values not shown). */
function otherRow(column: ColumnProfileJson): Array<{ value: string; count: string }> {
  const hidden = (column.categories?.counts ?? []).slice(TOP_CATEGORIES).reduce((sum, category) => sum + Number(category.count ?? 0), 0);
  const other = hidden + Number(column.categories?.otherCount ?? 0);
  return other > 0 ? [{ value: '(other values)', count: String(other) }] : [];
}
