import { SingleBar } from 'cli-progress';
import { formatBytes } from '@trellis/client';

/** How often the bar gets a new rate and ETA, even when no byte moved (a stalled upload shows it). */
const REDRAW_MS = 200;
/** cli-progress draws on its own timer, only what changed: four times an update, so a new figure waits 50 ms at most. */
const DRAWS_PER_SECOND = 20;
/** The rate is the bytes of the last few seconds, so it follows a transfer that speeds up or stalls. */
const RATE_WINDOW_MS = 3000;

/** Counts the bytes of one phase of a transfer (hashing, uploading, downloading). */
export interface Progress {
  add(bytes: number): void;
  /** Ends the phase: the bar is drawn full one last time and the line is left as it is. */
  stop(): void;
}

/** A phase that shows nothing: stderr is not a terminal (a script, a CI log), or there is nothing to do. */
const SILENT: Progress = { add: () => undefined, stop: () => undefined };

/**
 * A progress bar on stderr for `total` bytes, with the bytes done, the rate and the time left,
 * when stderr is a terminal; nothing otherwise (scripts read a final line). It is redrawn every
 * 200 ms whether or not bytes arrived, so its figures never go stale for longer.
 */
export function startProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || total <= 0) return SILENT;
  const bar = new SingleBar({
    stream,
    fps: DRAWS_PER_SECOND,
    barsize: 24,
    hideCursor: false,
    format: (options, params, payload: { rate: number }) => {
      const filled = Math.round(params.progress * (options.barsize ?? 24));
      const eta = payload.rate > 0 ? formatDuration((params.total - params.value) / payload.rate) : '--:--';
      return `${label.padEnd(11)} ${'█'.repeat(filled)}${'░'.repeat((options.barsize ?? 24) - filled)} ${String(Math.floor(params.progress * 100)).padStart(3)}% ${formatBytes(params.value)} / ${formatBytes(params.total)}  ${formatBytes(payload.rate)}/s  ETA ${eta}`;
    },
  });
  const samples: Array<{ at: number; done: number }> = [];
  let done = 0;
  const rate = () => {
    const now = Date.now();
    samples.push({ at: now, done });
    while (samples.length > 2 && now - samples[0].at > RATE_WINDOW_MS) samples.shift();
    const first = samples[0];
    return now > first.at ? ((done - first.done) * 1000) / (now - first.at) : 0;
  };
  bar.start(total, 0, { rate: 0 });
  const timer = setInterval(() => bar.update(done, { rate: rate() }), REDRAW_MS);
  timer.unref();
  return {
    add: (bytes) => {
      done += bytes;
    },
    stop: () => {
      clearInterval(timer);
      bar.update(done, { rate: rate() });
      bar.stop();
    },
  };
}

/** Seconds as `m:ss` (or `h:mm:ss`). */
function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.ceil(seconds));
  const [hours, minutes, secs] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  const mmss = `${hours > 0 ? String(minutes).padStart(2, '0') : minutes}:${String(secs).padStart(2, '0')}`;
  return hours > 0 ? `${hours}:${mmss}` : mmss;
}
