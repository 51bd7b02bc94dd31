import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEAD_LETTER_FILE, type DeadLetter, DeadLetterFile, readDeadLetters } from './dead-letters';

const letter = (id: string): DeadLetter => ({
  alert: { id, status: 'firing', severity: 'info', title: 't', source: 's', labels: {}, at: '2026-12-05T01:02:03.000Z' },
  receiver: 'hooks.example.com',
  attempts: 5,
  lastStatus: 503,
  lastError: 'answered 503',
  at: '2026-12-05T01:03:00.000Z',
});

describe('dead letters', () => {
  it('lists nothing before the first one', async () => {
    expect(await readDeadLetters(mkdtempSync(join(tmpdir(), 'dead-letters-')))).toEqual([]);
  });

  it('keeps concurrent appends whole and in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dead-letters-'));
    const file = new DeadLetterFile(dir);
    await Promise.all(['a', 'b', 'c'].map((id) => file.append(letter(id))));
    expect((await readDeadLetters(dir)).map((one) => one.alert.id)).toEqual(['a', 'b', 'c']);
  });

  it('skips a line a crash cut short, and starts the next record on a fresh line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dead-letters-'));
    writeFileSync(join(dir, DEAD_LETTER_FILE), `${JSON.stringify(letter('a'))}\n{"alert":{"id":"torn`);
    await new DeadLetterFile(dir).append(letter('b'));
    expect(await readDeadLetters(dir)).toEqual([letter('a'), letter('b')]);
  });
});
