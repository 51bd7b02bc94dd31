import { Writable } from 'node:stream';
import type { CoreV1Api, Log, V1Pod } from '@kubernetes/client-node';
import type { JobLogLine } from '@trellis/plugin-sdk';
import { CONTAINER } from './job-manifest';
import { replicaOf } from './job-state';
import { Notifier } from './notifier';

/** Whether the pod's container has started (a log can be read), running or ended. */
function started(pod: V1Pod): boolean {
  return (pod.status?.containerStatuses ?? []).some((status) => status.state?.running || status.state?.terminated);
}

/** One line of a log read with `timestamps=true`: `<RFC 3339 time> <text>`. Kubernetes merges stdout and stderr; both are given as stdout. */
function parseLine(text: string, replica: number): JobLogLine {
  const space = text.indexOf(' ');
  const time = space > 0 ? new Date(text.slice(0, space).replace(/(\.\d{3})\d+/, '$1')) : new Date(NaN);
  if (Number.isNaN(time.getTime())) return { time: new Date(), stream: 'stdout', replica, line: text };
  return { time, stream: 'stdout', replica, line: text.slice(space + 1) };
}

/** What the pods have written so far, one read of `/pods/<pod>/log` each, replica by replica. */
export async function* podLogLines(core: CoreV1Api, namespace: string, pods: readonly V1Pod[]): AsyncGenerator<JobLogLine> {
  for (const pod of [...pods].filter(started).sort((a, b) => replicaOf(a) - replicaOf(b))) {
    let text: string;
    try {
      text = await core.readNamespacedPodLog({ name: pod.metadata?.name ?? '', namespace, container: CONTAINER, timestamps: true });
    } catch (error) {
      // A pod deleted since it was listed, or whose container has not started after all, has no log to give.
      if ([400, 404].includes((error as { code?: number }).code ?? 0)) continue;
      throw error;
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (const line of lines) yield parseLine(line, replicaOf(pod));
  }
}

/** Where followed logs come from: the job's pods now, whether the job has ended, and word of changes. */
export interface FollowSource {
  pods(): V1Pod[];
  done(): boolean;
  onChange(listener: () => void): () => void;
  signal: AbortSignal;
}

/**
 * Follows the log of each pod of a job (`follow=true`) from when its container starts, and ends
 * once the job has ended and every followed log has ended.
 */
export async function* followPodLogs(log: Log, namespace: string, source: FollowSource): AsyncGenerator<JobLogLine> {
  const changes = new Notifier();
  const off = source.onChange(() => changes.notify());
  const lines: JobLogLine[] = [];
  const followed = new Set<string>();
  const streams = new Set<AbortController>();
  let open = 0;
  let failure: Error | undefined;
  const follow = (pod: V1Pod) => {
    const name = pod.metadata?.name ?? '';
    followed.add(name);
    open++;
    const ended = () => {
      open--;
      changes.notify();
    };
    let partial = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        const parts = (partial + chunk.toString('utf8')).split('\n');
        partial = parts.pop() ?? '';
        for (const text of parts) lines.push(parseLine(text, replicaOf(pod)));
        changes.notify();
        callback();
      },
      final(callback) {
        if (partial) lines.push(parseLine(partial, replicaOf(pod)));
        callback();
      },
    });
    sink.on('finish', ended);
    sink.on('error', ended);
    log.log(namespace, name, CONTAINER, sink, { follow: true, timestamps: true }).then(
      (controller) => streams.add(controller),
      (error: { code?: number }) => {
        if (![400, 404].includes(error.code ?? 0)) failure = error as Error;
        ended();
      },
    );
  };
  try {
    for (;;) {
      for (const pod of source.pods()) if (started(pod) && !followed.has(pod.metadata?.name ?? '')) follow(pod);
      while (lines.length > 0) yield lines.shift() as JobLogLine;
      if (failure) throw failure;
      if (source.signal.aborted || (open === 0 && source.done() && source.pods().every((pod) => !started(pod) || followed.has(pod.metadata?.name ?? '')))) return;
      await changes.next(source.signal);
    }
  } finally {
    off();
    for (const stream of streams) stream.abort();
  }
}
