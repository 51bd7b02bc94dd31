import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Linux's USER_HZ, the unit of a process's start time in /proc/<pid>/stat (100 on every architecture Node runs on). */
const CLOCK_TICKS_PER_SECOND = 100;
/** How much later than its pid file a group leader may seem to start: two ticks of rounding. */
const START_TOLERANCE_MS = 20;

/** Fields of /proc/<pid>/stat after the command name, which may hold spaces and parentheses. */
interface ProcStat {
  state: string;
  pgrp: number;
  /** Clock ticks after boot. */
  startTicks: number;
}

/** Synchronous: /proc is read from memory, faster than a trip through libuv's thread pool. */
function procStat(pid: string | number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgrp: Number(fields[2]), startTicks: Number(fields[19]) };
}

let bootTimeMs: number | undefined;

function bootTime(): number {
  bootTimeMs ??= Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]) * 1000;
  return bootTimeMs;
}

/**
 * Whether a process of the group `pgid` still runs (zombies do not count: nothing may reap them in
 * a container). `recordedAtMs` is when the group's leader wrote its pid file: a leader that started
 * after it is another process that got the same pid, so the job's group is gone.
 */
export async function groupAlive(pgid: number, recordedAtMs: number): Promise<boolean> {
  if (!signalGroup(pgid, 0)) return false;
  const leader = procStat(pgid);
  if (leader && leader.state !== 'Z') return bootTime() + (leader.startTicks * 1000) / CLOCK_TICKS_PER_SECOND <= recordedAtMs + START_TOLERANCE_MS;
  // Without its leader a group keeps its id, and Linux gives no new process that pid while it lives.
  return liveMemberOf(pgid);
}

async function liveMemberOf(pgid: number): Promise<boolean> {
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(name);
    if (stat?.pgrp === pgid && stat.state !== 'Z') return true;
  }
  return false;
}

/** Sends `signal` to every process of the group; false when the group is gone. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    // EPERM: the id now names a group of another user, so not the job's.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH' || (error as NodeJS.ErrnoException).code === 'EPERM') return false;
    throw error;
  }
}

/** A process group of a replica: its id and when its leader recorded it. */
export interface ProcessGroup {
  pgid: number;
  recordedAtMs: number;
}

/**
 * Ends every process of `groups`, grandchildren that ignore SIGTERM included: SIGTERM, then SIGKILL
 * to what is left after `graceMs`. Resolves once none of them runs. Group deaths raise no event
 * outside their parent, so it checks them at short, growing intervals.
 */
export async function killGroups(groups: readonly ProcessGroup[], graceMs: number): Promise<void> {
  let left = await alive(groups);
  for (const { pgid } of left) signalGroup(pgid, 'SIGTERM');
  const killAt = Date.now() + graceMs;
  for (let wait = 5; left.length > 0; wait = Math.min(wait * 2, 100)) {
    if (Date.now() >= killAt) for (const { pgid } of left) signalGroup(pgid, 'SIGKILL');
    await sleep(Date.now() < killAt ? Math.min(wait, killAt - Date.now()) : wait);
    left = await alive(left);
  }
}

async function alive(groups: readonly ProcessGroup[]): Promise<ProcessGroup[]> {
  const living = await Promise.all(groups.map((group) => groupAlive(group.pgid, group.recordedAtMs)));
  return groups.filter((_, i) => living[i]);
}
