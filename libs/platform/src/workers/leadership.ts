/** This replica's turn at running a worker, until it is released or lost. */
export interface Lease {
  /** Aborts when this replica no longer leads (its database connection was lost). */
  readonly lost: AbortSignal;
  /** Gives the turn up, so another replica can take it. */
  release(): Promise<void>;
}

/** Decides which replica runs a worker. */
export interface Leadership {
  /** Resolves once this replica leads, or with undefined once `stopped` aborts first. */
  acquire(stopped: AbortSignal): Promise<Lease | undefined>;
}

/** Leadership where there is one replica (standalone on SQLite): granted at once, never lost. */
export const soleLeadership: Leadership = {
  acquire: async (stopped) => (stopped.aborted ? undefined : { lost: new AbortController().signal, release: async () => undefined }),
};
