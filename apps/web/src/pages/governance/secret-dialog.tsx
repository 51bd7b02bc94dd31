import { useEffect, useRef, useState } from 'react';

/**
 * A modal dialog that shows a new API key's secret, the only time anyone sees it, with a button
 * that copies it; closing it forgets the secret.
 */
export function SecretDialog({ secret, keyName, onClose }: { secret: string; keyName: string; onClose(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);
  const copy = () =>
    navigator.clipboard.writeText(secret).then(
      () => setCopied('yes'),
      () => setCopied('failed'),
    );
  return (
    <dialog ref={dialog} aria-labelledby="secret-dialog-title" onClose={onClose}>
      <h2 id="secret-dialog-title">API key {keyName} created</h2>
      <p>Store this secret now: it is shown only this once, and Trellis keeps only its hash.</p>
      <p>
        <label htmlFor="secret-value">Secret</label>
        <br />
        <input id="secret-value" readOnly value={secret} size={Math.min(secret.length, 90)} onFocus={(event) => event.target.select()} />
      </p>
      <div className="actions">
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
          I have stored it
        </button>
        <span role="status">{copied === 'yes' ? 'Copied.' : copied === 'failed' ? 'Copying is not allowed here: select the secret and copy it.' : ''}</span>
      </div>
    </dialog>
  );
}
