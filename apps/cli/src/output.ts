/** How results are printed: a table for people, or JSON for scripts (`--output json`). */
export type OutputFormat = 'table' | 'json';

/** A column of a printed table: its header and how a row shows in it. */
export interface TableColumn<Row> {
  header: string;
  value(row: Row): string | number | boolean | undefined;
}

/** Where a command's results go, in the format the user asked for. */
export class Output {
  constructor(
    readonly format: OutputFormat,
    private readonly write: (text: string) => void = (text) => process.stdout.write(text),
  ) {}

  /** Rows as an aligned table, or `json` (default: the rows) as JSON. */
  table<Row>(rows: readonly Row[], columns: ReadonlyArray<TableColumn<Row>>, json: unknown = rows): void {
    if (this.format === 'json') return this.json(json);
    if (rows.length === 0) return this.line('(none)');
    const cells = rows.map((row) => columns.map((column) => clean(column.value(row))));
    const widths = columns.map((column, index) => Math.max(column.header.length, ...cells.map((row) => row[index].length)));
    const render = (values: string[]) => values.map((value, index) => (index === values.length - 1 ? value : value.padEnd(widths[index]))).join('  ');
    this.line(render(columns.map((column) => column.header.toUpperCase())));
    for (const row of cells) this.line(render(row));
  }

  /** One object as `label: value` lines, or `json` (default: the fields) as JSON. */
  fields(fields: Array<[string, string | number | boolean | undefined]>, json: unknown = Object.fromEntries(fields)): void {
    if (this.format === 'json') return this.json(json);
    const width = Math.max(...fields.map(([label]) => label.length));
    for (const [label, value] of fields) this.line(`${`${label}:`.padEnd(width + 1)} ${clean(value)}`);
  }

  /** A sentence for people saying what was done; `json` is printed instead with --output json. */
  done(message: string, json: unknown): void {
    if (this.format === 'json') return this.json(json);
    this.line(message);
  }

  json(value: unknown): void {
    this.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  line(text: string): void {
    this.write(`${text}\n`);
  }
}

/** A cell's text on one line: no control characters that could move a terminal's cursor. */
function clean(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  // eslint-disable-next-line no-control-regex
  return String(value).replace(/[\u0000-\u001f\u007f]/g, ' ');
}
