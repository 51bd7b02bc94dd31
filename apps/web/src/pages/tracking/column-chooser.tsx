import { columnId, type ChosenColumn } from './run-columns';

/**
 * Which params and metrics the runs table shows as columns, chosen among the keys of the page's
 * runs (a search never reads all runs to list keys). Columns chosen earlier stay offered.
 */
export function ColumnChooser({ keys, chosen, onChange }: { keys: { metrics: string[]; params: string[] }; chosen: readonly ChosenColumn[]; onChange(next: ChosenColumn[]): void }) {
  const chosenIds = new Set(chosen.map(columnId));
  const offered = (entity: ChosenColumn['entity']) => [...new Set([...keys[entity], ...chosen.filter((column) => column.entity === entity).map((column) => column.key)])].sort();
  const toggle = (column: ChosenColumn) => onChange(chosenIds.has(columnId(column)) ? chosen.filter((other) => columnId(other) !== columnId(column)) : [...chosen, column]);
  return (
    <details className="column-chooser">
      <summary>Columns</summary>
      {(['metrics', 'params'] as const).map((entity) => (
        <fieldset key={entity}>
          <legend>{entity === 'metrics' ? 'Metrics' : 'Params'}</legend>
          {offered(entity).length === 0 ? <span className="muted">None on this page</span> : null}
          {offered(entity).map((key) => (
            <label key={key} className="choice">
              <input type="checkbox" checked={chosenIds.has(`${entity}.${key}`)} onChange={() => toggle({ entity, key })} /> {key}
            </label>
          ))}
        </fieldset>
      ))}
    </details>
  );
}
