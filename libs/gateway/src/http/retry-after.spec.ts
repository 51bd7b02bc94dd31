import { startEchoGateway, type EchoGateway } from '../../test/echo-gateway';
import { EchoService } from '../../test/echo-service';

/** 429 answers say when to come back, as HTTP clients (MLflow's among them) read it. */
describe('Retry-After on 429', () => {
  let echo: EchoGateway;

  beforeAll(async () => (echo = await startEchoGateway()));
  afterAll(() => echo.close());

  const echoing = (body: unknown) =>
    fetch(`${echo.base}/v1/${EchoService.typeName}/Echo`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  it("passes on the seconds the upstream's limit asked for in its retry-after trailing metadata", async () => {
    const response = await echoing({ text: 'busy', count: 7 });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.json()).toMatchObject({ status: 'RESOURCE_EXHAUSTED', message: 'slow down' });
  });

  it('asks for one second when the limit did not say', async () => {
    const response = await echoing({ text: 'busy' });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('1');
  });

  it('sends no Retry-After with a body over the limit (413) or any other answer', async () => {
    const tooLarge = await echoing({ text: 'x'.repeat(2000) });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get('retry-after')).toBeNull();
    const missing = await echoing({ text: 'missing' });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('retry-after')).toBeNull();
  });
});
