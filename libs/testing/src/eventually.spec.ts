import { eventually } from './eventually';

describe('eventually', () => {
  it('retries until the check passes and returns its value', async () => {
    let calls = 0;
    const value = await eventually(() => {
      calls += 1;
      if (calls < 3) throw new Error('not yet');
      return 'done';
    });

    expect(value).toBe('done');
    expect(calls).toBe(3);
  });

  it('throws the last failure once the time is up', async () => {
    await expect(eventually(() => Promise.reject(new Error('still wrong')), { timeoutMs: 50 })).rejects.toThrow('still wrong');
  });
});
