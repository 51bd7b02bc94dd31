import { DuplicateSubmissionError, RayJobsClient } from '../src/ray-jobs-client';
import { type FakeRay, startFakeRay } from './fake-ray';

let ray: FakeRay;

beforeEach(async () => {
  ray = await startFakeRay();
});

afterEach(async () => {
  await ray.close();
});

const post = (body: unknown) => fetch(`${ray.url}/api/jobs/`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('the fake Ray dashboard', () => {
  it.each([
    ['an unknown field', { entrypoint: 'true', entrypoint_num_cpu: 1 }, 400, "TypeError: JobSubmitRequest.__init__() got an unexpected keyword argument 'entrypoint_num_cpu'"],
    ['no entrypoint', { submission_id: 'x' }, 400, "TypeError: JobSubmitRequest.__init__() missing 1 required positional argument: 'entrypoint'"],
    ['an entrypoint that is a list', { entrypoint: ['echo', 'hi'] }, 400, "TypeError: entrypoint must be a string, got <class 'list'>"],
    ['memory that is not an integer', { entrypoint: 'true', entrypoint_memory: 1.5 }, 400, "TypeError: entrypoint_memory must be an integer, got <class 'float'>"],
    ['CPUs as a string', { entrypoint: 'true', entrypoint_num_cpus: '1' }, 400, "TypeError: entrypoint_num_cpus must be a number, got <class 'str'>"],
    ['a metadata value that is a number', { entrypoint: 'true', metadata: { team: 7 } }, 400, "TypeError: metadata values must be strings, got <class 'int'>"],
    ['env_vars with a number', { entrypoint: 'true', runtime_env: { env_vars: { N: 1 } } }, 500, "TypeError: runtime_env['env_vars'] must be of type Dict[str, str], got <class 'dict'>"],
    ['a runtime_env field Ray does not know', { entrypoint: 'true', runtime_env: { envvars: {} } }, 500, "runtime_env field 'envvars'"],
  ])('refuses a submission with %s as Ray does (HTTP status, plain-text traceback), and records it', async (_why, body, status, exception) => {
    const answer = await post(body);
    expect(answer.status).toBe(status);
    const text = await answer.text();
    expect(text).toMatch(/^Traceback \(most recent call last\):/);
    expect(text).toContain(exception);
    expect(ray.rejected).toEqual([expect.stringContaining(`POST /api/jobs/: `)]);
    expect(ray.submitted).toEqual([]);
  });

  it('drops null fields first, as Ray does for newer clients', async () => {
    expect((await post({ entrypoint: 'true', entrypoint_label_selector: null })).status).toBe(200);
    expect(ray.rejected).toEqual([]);
  });

  it('answers an unknown job with 404 and a plain sentence, not as a refusal of the request', async () => {
    const answer = await fetch(`${ray.url}/api/jobs/nope`);
    expect([answer.status, await answer.text()]).toEqual([404, 'Job nope does not exist']);
    expect(ray.rejected).toEqual([]);
  });

  it('refuses a taken submission id as the job agent does, which the client reports as a duplicate', async () => {
    const client = new RayJobsClient(ray.url);
    const request = { entrypoint: 'true', submission_id: 'trellis-once', runtime_env: { env_vars: {} }, metadata: {}, entrypoint_num_cpus: 0, entrypoint_num_gpus: 0, entrypoint_memory: 0 };
    expect(await client.submit(request)).toBe('trellis-once');
    await expect(client.submit(request)).rejects.toBeInstanceOf(DuplicateSubmissionError);
    expect(ray.duplicates).toEqual(['trellis-once']);
    expect(ray.rejected).toEqual([]);
  });

  it('records a request for a route the dashboard does not serve', async () => {
    expect((await fetch(`${ray.url}/api/jobs/x/restart`, { method: 'POST' })).status).toBe(404);
    expect(ray.rejected).toEqual(['POST /api/jobs/x/restart: the dashboard serves no POST /api/jobs/x/restart']);
  });
});
