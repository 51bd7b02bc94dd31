/**
 * Commits items in groups: `add` queues an item and resolves once a commit that included it has
 * succeeded. While one commit runs, new items gather for the next, so under load each commit
 * takes many items and when idle each takes one. A failed group is retried item by item, so one
 * bad item fails alone.
 */
export class GroupCommit<T> {
  private queue: Array<{ item: T; resolve: () => void; reject: (error: unknown) => void }> = [];
  private flushing = false;

  constructor(
    private readonly commit: (items: T[]) => Promise<void>,
    private readonly maxGroup = 500,
  ) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, this.maxGroup);
      try {
        await this.commit(group.map((entry) => entry.item));
        for (const entry of group) entry.resolve();
      } catch (error) {
        if (group.length === 1) group[0].reject(error);
        else for (const entry of group) await this.commit([entry.item]).then(entry.resolve, entry.reject);
      }
    }
    this.flushing = false;
  }
}
