import { transition, type OpenAlert } from './alert-state';

const at = (seconds: number) => seconds * 1000;
const pending = (pendingSeconds: number, windowNumber = 1): OpenAlert => ({ state: 'pending', pendingAtMs: at(pendingSeconds), windowNumber });
const firing = (pendingSeconds: number, windowNumber = 1): OpenAlert => ({ state: 'firing', pendingAtMs: at(pendingSeconds), windowNumber });

describe('transition: a rule, its open alert and a window\'s judgement', () => {
  it('raises nothing while the condition does not hold and no alert is open', () => {
    expect(transition(60, undefined, { holds: false, windowNumber: 1, atMs: at(0) })).toEqual({ kind: 'none' });
  });

  it('opens a PENDING alert when the condition first holds and the rule waits', () => {
    expect(transition(60, undefined, { holds: true, windowNumber: 1, atMs: at(0) })).toEqual({ kind: 'open', firing: false });
  });

  it('opens a FIRING alert at once when for_seconds is 0', () => {
    expect(transition(0, undefined, { holds: true, windowNumber: 1, atMs: at(0) })).toEqual({ kind: 'open', firing: true });
  });

  it('keeps a PENDING alert pending while the condition has held for less than for_seconds', () => {
    expect(transition(60, pending(100), { holds: true, windowNumber: 2, atMs: at(159) })).toEqual({ kind: 'hold' });
  });

  it('fires a PENDING alert once a later window still holds for_seconds after it began', () => {
    expect(transition(60, pending(100), { holds: true, windowNumber: 2, atMs: at(160) })).toEqual({ kind: 'fire' });
    expect(transition(60, pending(100), { holds: true, windowNumber: 3, atMs: at(500) })).toEqual({ kind: 'fire' });
  });

  it('keeps a FIRING alert firing while the condition holds', () => {
    expect(transition(60, firing(100), { holds: true, windowNumber: 5, atMs: at(900) })).toEqual({ kind: 'hold' });
  });

  it('resolves a PENDING alert silently and a FIRING one with notice when the condition stops holding', () => {
    expect(transition(60, pending(100), { holds: false, windowNumber: 2, atMs: at(120) })).toEqual({ kind: 'resolve', fired: false });
    expect(transition(60, firing(100), { holds: false, windowNumber: 4, atMs: at(300) })).toEqual({ kind: 'resolve', fired: true });
  });

  it('ignores a window older than the one that last judged the alert (labels reaching an old window)', () => {
    expect(transition(60, firing(100, 5), { holds: false, windowNumber: 4, atMs: at(300) })).toEqual({ kind: 'none' });
  });

  it('lets the same window judge again (its performance changed as labels arrived)', () => {
    expect(transition(0, firing(100, 5), { holds: false, windowNumber: 5, atMs: at(100) })).toEqual({ kind: 'resolve', fired: true });
  });
});
