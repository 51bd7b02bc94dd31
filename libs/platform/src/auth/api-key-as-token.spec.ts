import { status, type ServiceError } from '@grpc/grpc-js';
import { WidgetService } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import { widgetService } from '../../test/widget/widget.service';
import type { RunningService } from '../service';
import { TestPlatform } from '../testing';

describe('what a service answers a caller who sent no token, or an API key instead of one', () => {
  let platform: TestPlatform;
  let service: RunningService;

  beforeAll(async () => {
    platform = await TestPlatform.start();
    service = await platform.startService(widgetService);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('says how to get a token, and that the gateway takes API keys, when the call has no credentials', async () => {
    const anonymous = await platform.client(WidgetService, service.grpcAddress);
    await expect(anonymous.getWidget({ id: 'x' })).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
      details:
        'missing credentials: send `authorization: Bearer <token>`; exchange an API key for a token with ' +
        'trellis.governance.v1.TokenService/ExchangeApiKey (the HTTP gateway takes API keys directly)',
    });
  });

  it('recognises an API key sent as the token and says to exchange it, instead of a JWS parse error', async () => {
    const anonymous = await platform.client(WidgetService, service.grpcAddress);
    const apiKey = `trellis_0123456789abcdef_${'A'.repeat(43)}`;
    const error = (await anonymous.getWidget({ id: 'x' }, { token: apiKey }).catch((thrown: unknown) => thrown)) as ServiceError;
    expect(error).toMatchObject({ code: status.UNAUTHENTICATED });
    expect(error.details).toBe(
      'token rejected: this is an API key, not a token; exchange an API key for a token with ' +
        'trellis.governance.v1.TokenService/ExchangeApiKey (the HTTP gateway takes API keys directly)',
    );
    expect(error.details).not.toContain('Compact JWS');
  });

  it('still calls a value of another shape an invalid JWT', async () => {
    const anonymous = await platform.client(WidgetService, service.grpcAddress);
    await expect(anonymous.getWidget({ id: 'x' }, { token: 'trellis_not-quite-a-key' })).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
      details: expect.stringMatching(/^token rejected: /),
    });
  });
});
