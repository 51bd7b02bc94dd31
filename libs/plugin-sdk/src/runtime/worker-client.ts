import type { Worker } from 'node:worker_threads';
import type { PluginLogger } from '../context';

/** What the worker answers a call with, or a log line it forwards. */
interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: { name?: string; message?: string; code?: string };
  log?: { level: keyof PluginLogger; obj: object; msg?: string };
}

/** A call waiting for the worker's reply. */
interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * Calls into a plugin worker by id and routes its replies back; the worker's log lines go to
 * `logger`. Once the worker fails or exits, every call waiting and every later one rejects with why.
 */
export class WorkerClient {
  private readonly pending = new Map<number, Pending>();
  private ids = 0;
  private ended: Error | undefined;

  constructor(
    readonly worker: Worker,
    logger?: PluginLogger,
  ) {
    worker.on('message', (reply: Reply) => {
      if (reply.log !== undefined) return logger?.[reply.log.level](reply.log.obj, reply.log.msg);
      const call = this.pending.get(reply.id);
      if (!call) return;
      this.pending.delete(reply.id);
      if (call.onAbort) call.signal?.removeEventListener('abort', call.onAbort);
      if (reply.ok) call.resolve(reply.value);
      else call.reject(errorFrom(reply.error));
    });
    worker.on('error', (err) => this.end(err));
    worker.on('exit', (code) => this.end(new Error(`the plugin worker exited (code ${code})`)));
  }

  /**
   * Calls `op` in the worker with `args`, which cross as copies except the buffers in `transfer`
   * (moved: the caller gives them up); `signal` asks the worker to abort the call.
   */
  call(op: string, args: unknown[] = [], signal?: AbortSignal, transfer?: readonly ArrayBuffer[]): Promise<unknown> {
    if (this.ended) return Promise.reject(this.ended);
    const id = ++this.ids;
    return new Promise((resolve, reject) => {
      const call: Pending = { resolve, reject };
      if (signal) {
        call.signal = signal;
        call.onAbort = () => this.worker.postMessage({ id: 0, op: 'abort', args: [id] });
        signal.addEventListener('abort', call.onAbort, { once: true });
      }
      this.pending.set(id, call);
      this.worker.postMessage({ id, op, args }, transfer);
    });
  }

  private end(err: Error): void {
    this.ended ??= err;
    for (const call of this.pending.values()) call.reject(err);
    this.pending.clear();
  }
}

/** An error of the name the worker's error had (TypeError, RangeError or Error), with its code. */
function errorFrom(error: Reply['error'] = {}): Error {
  const message = error.message ?? 'the plugin worker failed';
  const made = error.name === 'TypeError' ? new TypeError(message) : error.name === 'RangeError' ? new RangeError(message) : new Error(message);
  if (error.name && made.name !== error.name) made.name = error.name;
  if (error.code !== undefined) Object.assign(made, { code: error.code });
  return made;
}
