import { isFinalJob } from '@trellis/client';
import type { StreamJobLogsResponseJson } from '@trellis/proto/trellis/compute/v1/job_service_pb';
import type { JobJson } from '@trellis/proto/trellis/compute/v1/resources_pb';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useSession } from '../../api/session';
import { ErrorBanner } from '../../components/error-banner';

import './jobs.css';

/** Lines kept on the page; older ones are dropped (the CLI's `trellis jobs logs` prints them all). */
const MAX_LINES = 5000;
/** Lines that arrive together are drawn together, at most this often. */
const FLUSH_MS = 50;

interface LogState {
  lines: StreamJobLogsResponseJson[];
  dropped: number;
  following: boolean;
  error?: Error;
}

/**
 * The lines of one attempt as they arrive: the whole log so far, then, while the job runs, each
 * new line (`follow`). The stream is aborted when the page leaves or the attempt changes;
 * `onEnd` is called when a followed attempt's stream ends (the attempt ended).
 */
function useAttemptLogs(jobId: string, attempt: number | undefined, follow: boolean, onEnd: () => void): LogState {
  const { client } = useSession();
  const [state, setState] = useState<LogState>({ lines: [], dropped: 0, following: false });
  const latest = useRef({ follow, onEnd });
  latest.current = { follow, onEnd };
  useEffect(() => {
    setState({ lines: [], dropped: 0, following: false });
    if (attempt === undefined) return;
    const abort = new AbortController();
    const following = latest.current.follow;
    let pending: StreamJobLogsResponseJson[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      const arrived = pending;
      pending = [];
      setState((previous) => {
        const lines = [...previous.lines, ...arrived];
        const drop = Math.max(0, lines.length - MAX_LINES);
        return { ...previous, lines: drop ? lines.slice(drop) : lines, dropped: previous.dropped + drop };
      });
    };
    setState((previous) => ({ ...previous, following }));
    void (async () => {
      try {
        for await (const line of client.stream<StreamJobLogsResponseJson>('trellis.compute.v1.JobService/StreamJobLogs', { jobId, attempt, follow: following }, { signal: abort.signal })) {
          pending.push(line);
          timer ??= setTimeout(flush, FLUSH_MS);
        }
        if (abort.signal.aborted) return;
        clearTimeout(timer);
        flush();
        setState((previous) => ({ ...previous, following: false }));
        if (following) latest.current.onEnd();
      } catch (error) {
        if (!abort.signal.aborted) setState((previous) => ({ ...previous, following: false, error: error as Error }));
      }
    })();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [client, jobId, attempt]);
  return state;
}

/**
 * A job's log: its latest attempt that reached a backend, streamed live while the job runs,
 * scrolled to the newest line unless the reader scrolled up.
 */
export function JobLogs({ job, onEnd }: { job: JobJson; onEnd: () => void }) {
  const attempt = (job.attempts ?? []).filter((candidate) => candidate.backendJobId).at(-1);
  const { lines, dropped, following, error } = useAttemptLogs(job.id ?? '', attempt?.number, !isFinalJob(job), onEnd);
  const box = useRef<HTMLPreElement>(null);
  const atBottom = useRef(true);
  useLayoutEffect(() => {
    if (box.current && atBottom.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines]);
  if (!attempt) return <p className="muted">No output yet: the job has not started{job.reason ? ` (${job.reason})` : ''}.</p>;
  const severalReplicas = (job.spec?.replicas ?? 1) > 1;
  return (
    <>
      <ErrorBanner error={error} />
      <p className="muted">
        Attempt {attempt.number}
        {following ? ': following, new lines appear as the job writes them.' : '.'}
        {dropped ? ` The first ${dropped.toLocaleString()} lines are not shown: \`trellis jobs logs ${job.id}\` prints them all.` : ''}
      </p>
      <pre
        ref={box}
        className="job-log"
        role="log"
        aria-label={`Output of attempt ${attempt.number}`}
        tabIndex={0}
        onScroll={(event) => {
          const element = event.currentTarget;
          atBottom.current = element.scrollTop + element.clientHeight >= element.scrollHeight - 4;
        }}
      >
        {lines.length === 0 ? <span className="muted">{following ? 'Waiting for output…' : 'No output.'}</span> : null}
        {lines.map((line, index) => (
          <span key={index + dropped} className={line.stream === 'LOG_STREAM_STDERR' ? 'stderr' : undefined}>
            {severalReplicas ? `[${line.replica ?? 0}] ` : ''}
            {line.line}
            {'\n'}
          </span>
        ))}
      </pre>
    </>
  );
}
