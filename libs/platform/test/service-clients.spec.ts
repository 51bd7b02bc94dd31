import { status, type ServiceError } from '@grpc/grpc-js';
import { closedPort } from '@trellis/testing';
import { DependencyUnavailableError, loadConfig, ServiceClients, type RunningService } from '../src';
import { TestPlatform } from '../src/testing';
import { WidgetService } from './gen/trellis/kittest/v1/widget_service_pb';
import { widgetService } from './widget/widget.service';

describe('clients of neighbouring services', () => {
  let platform: TestPlatform;
  let service: RunningService;

  beforeAll(async () => {
    platform = await TestPlatform.start();
    service = await platform.startService(widgetService);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('finds a service of the same process and calls it as the caller whose token it forwards', async () => {
    const widgets = platform.runtime.clients.of(WidgetService, 'widgets');
    const token = await platform.keys.mint({ sub: 'u1', bindings: [{ project: 'p1', role: 'editor' }] });
    const { widget } = await widgets.createWidget({ projectId: 'p1', name: 'through-a-neighbour' }, { token });
    expect(widget?.name).toBe('through-a-neighbour');
    const anonymous = (await widgets.createWidget({ projectId: 'p1', name: 'x' }).catch((error: unknown) => error)) as ServiceError;
    expect(anonymous.code).toBe(status.UNAUTHENTICATED);
    expect(service.grpcAddress).toBeTruthy();
  });

  it('says which setting is missing for a service that runs nowhere it knows of', () => {
    expect(() => platform.runtime.clients.of(WidgetService, 'elsewhere')).toThrow(DependencyUnavailableError);
    expect(() => platform.runtime.clients.of(WidgetService, 'elsewhere')).toThrow('services.elsewhere.address (TRELLIS_ELSEWHERE_ADDRESS)');
  });

  it('names the service, where it was looked for and the setting when nothing answers there', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const clients = new ServiceClients((name) => (name === 'widgets' ? address : undefined));
    const failure = (await clients.of(WidgetService, 'widgets').createWidget({ projectId: 'p1', name: 'x' }).catch((error: unknown) => error)) as ServiceError;
    clients.close();
    expect({ code: failure.code, details: failure.details }).toEqual({
      code: status.UNAVAILABLE,
      details: `the widgets service at ${address} (services.widgets.address, TRELLIS_WIDGETS_ADDRESS) is not answering; check that it runs there`,
    });
  });

  it('reads where other services answer from TRELLIS_<SERVICE>_ADDRESS', () => {
    const config = loadConfig({ services: ['registry'], env: { TRELLIS_TRACKING_ADDRESS: 'tracking.internal:50053' } });
    expect(config.services.tracking?.address).toBe('tracking.internal:50053');
    expect(() => loadConfig({ services: [], env: { TRELLIS_TRACKING_ADDRESS: 'no port' } })).toThrow('must be host:port');
  });
});
