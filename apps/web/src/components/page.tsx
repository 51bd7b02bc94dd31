import type { ReactNode } from 'react';
import { ErrorBanner } from './error-banner';

/** A page's frame: its title, actions on the right, the error of its main request, and its body. */
export function Page({ title, actions, error, loading, children }: { title: ReactNode; actions?: ReactNode; error?: Error; loading?: boolean; children?: ReactNode }) {
  return (
    <section className="page" aria-busy={loading ? 'true' : 'false'}>
      <header className="page-header">
        <h1>{title}</h1>
        {actions ? <div className="actions">{actions}</div> : null}
      </header>
      <ErrorBanner error={error} />
      {loading ? <p className="muted">Loading…</p> : null}
      {children}
    </section>
  );
}

/** A part of a page with its own heading. */
export function Panel({ title, actions, children }: { title: ReactNode; actions?: ReactNode; children?: ReactNode }) {
  return (
    <section className="panel">
      <header className="panel-header">
        <h2>{title}</h2>
        {actions ? <div className="actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

/** Label/value pairs, as a description list. */
export function Fields({ fields }: { fields: Array<[string, ReactNode]> }) {
  return (
    <dl className="fields">
      {fields.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value === undefined || value === '' ? <span className="muted">—</span> : value}</dd>
        </div>
      ))}
    </dl>
  );
}
