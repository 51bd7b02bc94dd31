/** Work deferred until a process is up; it resolves to a notice for the operator, or to nothing. */
export type AfterStartHook = () => Promise<string | undefined>;

/**
 * Work a service defers until every server of its process listens, such as showing the first
 * admin key: a start that fails before then shows nothing, and the next start does the work.
 * `runProcess` holds the hooks and runs them once everything listens, printing their notices after
 * its summary; a runtime that nothing holds (a test's) runs each hook at once and writes its notice
 * to `write`.
 */
export class AfterStart {
  private readonly pending: AfterStartHook[] = [];

  constructor(
    private readonly held: boolean,
    private readonly write: (text: string) => void = (text) => process.stdout.write(text),
  ) {}

  /** Runs `hook` once the process is up (at once when nothing holds the hooks). */
  async add(hook: AfterStartHook): Promise<void> {
    if (this.held) {
      this.pending.push(hook);
      return;
    }
    const notice = await hook();
    if (notice) this.write(notice);
  }

  /** Runs the held hooks, in the order added, and returns their notices. */
  async release(): Promise<string[]> {
    const notices: string[] = [];
    for (const hook of this.pending.splice(0)) {
      const notice = await hook();
      if (notice) notices.push(notice);
    }
    return notices;
  }
}
