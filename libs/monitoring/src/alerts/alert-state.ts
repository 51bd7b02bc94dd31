/** Where an alert stands (resources.proto's AlertState). */
export type AlertStateName = 'pending' | 'firing' | 'resolved';

/** A rule's alert that is not resolved, as the state machine needs it. */
export interface OpenAlert {
  state: 'pending' | 'firing';
  /** When its condition began to hold: the close time of the first window that met it. */
  pendingAtMs: number;
  /** The last window that judged it. */
  windowNumber: number;
}

/** One window's judgement of a rule's condition. */
export interface Judgement {
  holds: boolean;
  /** The window's number. */
  windowNumber: number;
  /** The window's close time: the clock alerts keep. */
  atMs: number;
}

/**
 * What a judgement does to a rule's alert:
 * - `open`: a new alert, PENDING, or FIRING at once when `firing` (for_seconds 0);
 * - `fire`: the PENDING alert has held for for_seconds and fires;
 * - `hold`: the open alert stays as it is (its value and window are updated);
 * - `resolve`: the open alert is RESOLVED; `fired` says whether it had fired (and is announced);
 * - `none`: no alert and nothing to raise, or a window older than the alert's last one.
 */
export type Transition =
  | { kind: 'open'; firing: boolean }
  | { kind: 'fire' }
  | { kind: 'hold' }
  | { kind: 'resolve'; fired: boolean }
  | { kind: 'none' };

/** The transition of a rule with `forSeconds` whose open alert is `open` (or none) when a window judges its condition. */
export function transition(forSeconds: number, open: OpenAlert | undefined, judgement: Judgement): Transition {
  if (!open) return judgement.holds ? { kind: 'open', firing: forSeconds === 0 } : { kind: 'none' };
  // Labels can reach an older window after a newer one judged the alert: the newer one stands.
  if (judgement.windowNumber < open.windowNumber) return { kind: 'none' };
  if (!judgement.holds) return { kind: 'resolve', fired: open.state === 'firing' };
  if (open.state === 'pending' && judgement.atMs - open.pendingAtMs >= forSeconds * 1000) return { kind: 'fire' };
  return { kind: 'hold' };
}
