import type { DescService } from '@bufbuild/protobuf';
import { createGrpcClient } from '../grpc/grpc-client';
import type { ServiceError } from '@grpc/grpc-js';

/** How one method answered a call without a token. */
export interface UnauthenticatedCallResult {
  method: string;
  /** The gRPC status code, or 0 when the call succeeded (which is the failure this walk finds). */
  code: number;
  details: string;
}

/**
 * Calls every method of every given service without a token and reports what each answered.
 * A guarded method answers UNAUTHENTICATED (16); anything else is a hole. Tests run it over every
 * registered service; operators can run it against a deployment.
 */
export async function callEveryMethodWithoutToken(
  services: readonly DescService[],
  address: string,
): Promise<UnauthenticatedCallResult[]> {
  const results: UnauthenticatedCallResult[] = [];
  for (const service of services) {
    const client = createGrpcClient(service as never, address) as unknown as Record<string, (input: unknown) => unknown>;
    for (const method of service.methods) {
      const call = client[method.localName];
      const input = method.methodKind === 'unary' || method.methodKind === 'server_streaming' ? {} : [];
      try {
        const answer = call(input);
        if (answer && typeof (answer as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
          for await (const _ of answer as AsyncIterable<unknown>) break;
        } else {
          await answer;
        }
        results.push({ method: `${service.typeName}/${method.name}`, code: 0, details: 'answered without a token' });
      } catch (error) {
        const { code, details } = error as ServiceError;
        results.push({ method: `${service.typeName}/${method.name}`, code, details });
      }
    }
    (client as unknown as { close(): void }).close();
  }
  return results;
}
