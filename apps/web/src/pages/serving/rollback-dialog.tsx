import type { RollbackEndpointResponseJson } from '@trellis/proto/trellis/serving/v1/endpoint_service_pb';
import type { EndpointJson } from '@trellis/proto/trellis/serving/v1/resources_pb';
import { useEffect, useRef } from 'react';
import { useMutation } from '../../api/use-rpc';
import { ErrorBanner } from '../../components/error-banner';
import { SERVING } from './serving-api';
import { TrafficBar } from './traffic-bar';

/** Asks before rolling an endpoint back, showing the split it restores; `onDone` is told once it is rolled back. */
export function RollbackDialog({ endpoint, onClose, onDone }: { endpoint: EndpointJson; onClose(): void; onDone(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const rollback = useMutation<RollbackEndpointResponseJson>(SERVING.rollbackEndpoint);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);
  const confirm = async () => {
    const answer = await rollback.run({ endpointId: endpoint.id });
    if (answer) {
      onDone();
      dialog.current?.close();
    }
  };
  return (
    <dialog ref={dialog} aria-labelledby="rollback-title" onClose={onClose}>
      <h2 id="rollback-title">Roll back {endpoint.name}?</h2>
      <p>Requests go back to the split the endpoint had before its last change:</p>
      {endpoint.previousTraffic ? <TrafficBar endpoint={endpoint} split={endpoint.previousTraffic} label="Split after the rollback" /> : null}
      <ErrorBanner error={rollback.error} />
      <div className="actions">
        <button type="button" className="danger" onClick={() => void confirm()} disabled={rollback.pending}>
          Yes, roll back
        </button>
        <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
          Keep the current split
        </button>
      </div>
    </dialog>
  );
}
