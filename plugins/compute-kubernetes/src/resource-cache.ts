import type { KubernetesListObject, KubernetesObject, Watch } from '@kubernetes/client-node';

/** Where a cache lists and watches. */
export interface CacheSource<T extends KubernetesObject> {
  /** The watch path, `/apis/batch/v1/namespaces/ml/jobs`. */
  path: string;
  labelSelector: string;
  list(): Promise<KubernetesListObject<T>>;
}

/**
 * A list-then-watch copy of the objects under one path and label selector, shared by every caller:
 * one watch for all jobs instead of one poll per job. It resumes a closed watch from the last
 * resourceVersion it saw (bookmarks keep that fresh) and lists again when the server answers
 * 410 Gone (that version is older than the server keeps); any other failure is retried after
 * `retryDelayMs`. Listeners hear of every change, and of a re-list.
 */
export class ResourceCache<T extends KubernetesObject> {
  private readonly objects = new Map<string, T>();
  /** The last state of objects deleted lately (a DELETED event's object), newest last. */
  private readonly gone = new Map<string, T>();
  private readonly listeners = new Set<() => void>();
  private resourceVersion = '';
  private started?: Promise<void>;
  private readonly stop = new AbortController();
  private lastError?: Error;
  private request?: AbortController;

  constructor(
    private readonly source: CacheSource<T>,
    private readonly watcher: Watch,
    private readonly retryDelayMs: number,
    signal: AbortSignal,
    private readonly keepDeleted = 10_000,
  ) {
    signal.addEventListener('abort', () => this.close(), { once: true });
  }

  /** Resolves once the first list is in (starting the cache on first use); rejects when that list failed. */
  ready(): Promise<void> {
    this.started ??= this.run();
    return this.started;
  }

  get(name: string): T | undefined {
    return this.objects.get(name);
  }

  /** The last state of an object this cache saw deleted lately (the last `keepDeleted` deletions). */
  deleted(name: string): T | undefined {
    return this.gone.get(name);
  }

  values(): T[] {
    return [...this.objects.values()];
  }

  /** Calls `listener` after every change; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes an object the caller created, until its watch event arrives (a later one replaces it). */
  offer(object: T): void {
    const name = object.metadata?.name ?? '';
    if (this.objects.has(name)) return;
    this.objects.set(name, object);
    this.changed();
  }

  close(): void {
    this.stop.abort();
    this.request?.abort();
    this.changed();
  }

  /** Lists, then keeps watching in the background; the returned promise is the first list. */
  private async run(): Promise<void> {
    await this.relist();
    void this.watchLoop();
  }

  private async relist(): Promise<void> {
    const list = await this.source.list();
    const fresh = new Map((list.items ?? []).map((item) => [item.metadata?.name ?? '', item]));
    this.objects.clear();
    for (const [name, item] of fresh) this.objects.set(name, item);
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    this.changed();
  }

  private async watchLoop(): Promise<void> {
    while (!this.stop.signal.aborted) {
      let gone = false;
      const error = await this.watchOnce(() => (gone = true));
      if (this.stop.signal.aborted) return;
      try {
        if (gone || (error as { statusCode?: number } | undefined)?.statusCode === 410) await this.relist();
        else if (error) await this.pause();
        this.lastError = undefined;
      } catch (failed) {
        this.lastError = failed as Error;
        await this.pause();
      }
    }
  }

  /** One watch request, until the server or `stop` closes it: resolves with the error it ended on. */
  private watchOnce(onGone: () => void): Promise<Error | undefined> {
    return new Promise((resolve) => {
      const params = { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, labelSelector: this.source.labelSelector };
      const onEvent = (type: string, object: T & { code?: number }) => {
        if (type === 'ERROR') {
          if (object.code === 410) onGone();
          return;
        }
        this.resourceVersion = object.metadata?.resourceVersion ?? this.resourceVersion;
        if (type === 'BOOKMARK') return;
        const name = object.metadata?.name ?? '';
        if (type === 'DELETED') {
          this.objects.delete(name);
          this.gone.delete(name);
          this.gone.set(name, object);
          if (this.gone.size > this.keepDeleted) this.gone.delete(this.gone.keys().next().value as string);
        } else this.objects.set(name, object);
        this.changed();
      };
      this.watcher
        .watch(this.source.path, params, onEvent, (error: Error | null) => resolve(this.stop.signal.aborted ? undefined : (error ?? undefined)))
        .then((request) => {
          this.request = request;
          if (this.stop.signal.aborted) request.abort();
        }, resolve);
    });
  }

  private pause(): Promise<void> {
    const signal = this.stop.signal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.retryDelayMs);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** The error the last re-list failed with, while it has not succeeded since. */
  get failing(): Error | undefined {
    return this.lastError;
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
