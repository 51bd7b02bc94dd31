import type { EndpointJson, RevisionJson } from '@trellis/proto/trellis/serving/v1/resources_pb';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { reloadEndpoint, revisionLabel, stateOf } from './endpoints';

const POLL_MS = 500;

/**
 * Waits until a revision has loaded (READY) or failed, asking the endpoint every half second, with
 * a status line on stderr when it is a terminal. FAILED is a CliError with the reason (exit 9); a
 * revision still PENDING after `timeoutMs` is one saying how to look again (exit 7).
 */
export async function waitReady(ctx: CliContext, endpointId: string, revisionId: string, timeoutMs: number): Promise<{ endpoint: EndpointJson; revision: RevisionJson }> {
  const started = Date.now();
  const tty = process.stderr.isTTY === true;
  try {
    for (;;) {
      const endpoint = await reloadEndpoint(ctx, endpointId);
      const revision = endpoint.revisions?.find((candidate) => candidate.id === revisionId);
      if (!revision) throw new CliError(`revision ${revisionId} is no longer in endpoint ${endpoint.name}'s traffic: \`trellis endpoints show ${endpoint.name}\``, EXIT.conflict);
      const state = stateOf(revision);
      if (state === 'READY') return { endpoint, revision };
      if (state === 'FAILED') throw new CliError(`revision ${revisionLabel(revision)} failed to load: ${revision.stateMessage ?? ''}`, EXIT.checkFailed);
      const waited = Date.now() - started;
      if (waited >= timeoutMs) {
        throw new CliError(`revision ${revisionLabel(revision)} is still ${state} after ${Math.round(waited / 1000)}s; \`trellis endpoints show ${endpoint.name}\` shows when it is READY`, EXIT.unavailable);
      }
      if (tty) process.stderr.write(`\rwaiting for revision ${revisionLabel(revision)} to load: ${state} (${Math.round(waited / 1000)}s)`);
      await sleep(POLL_MS);
    }
  } finally {
    if (tty) process.stderr.write('\r\x1b[K');
  }
}
