import { Module, type ClassProvider, type DynamicModule, type ExistingProvider, type FactoryProvider, type ModuleMetadata, type Provider, type ValueProvider } from '@nestjs/common';
import { InferenceHttpServer } from './inference-http.server';
import { InferenceGrpc } from './inference.grpc';
import { INFERENCE_OBSERVER, INFERENCE_SERVER_INFO, INFERENCE_TARGETS, type InferenceServerInfo } from './inference-targets';

/** How the serving service plugs its control plane into the Open Inference Protocol handlers. */
export interface InferenceModuleOptions {
  /** Modules that provide what `targets` uses. */
  imports?: ModuleMetadata['imports'];
  /** The `InferenceTargets`: `{ useExisting: EndpointRouter }`, `{ useFactory, inject }` or `{ useValue }`. */
  targets: Omit<ExistingProvider | FactoryProvider | ValueProvider | ClassProvider, 'provide'>;
  /** The `InferenceObserver` told of every inference call (metrics, prediction logs); none by default. */
  observer?: Omit<ExistingProvider | FactoryProvider | ValueProvider | ClassProvider, 'provide'>;
  /** What ServerMetadata answers. */
  info: InferenceServerInfo;
}

/** The gRPC handlers of `inference.GRPCInferenceService` and the REST API on `services.serving.httpPort`, over the `InferenceTargets` given. */
@Module({})
export class InferenceModule {
  static register(options: InferenceModuleOptions): DynamicModule {
    return {
      module: InferenceModule,
      imports: options.imports ?? [],
      controllers: [InferenceGrpc],
      providers: [
        { provide: INFERENCE_TARGETS, ...options.targets } as Provider,
        { provide: INFERENCE_SERVER_INFO, useValue: options.info },
        ...(options.observer ? [{ provide: INFERENCE_OBSERVER, ...options.observer } as Provider] : []),
        InferenceHttpServer,
      ],
      exports: [INFERENCE_TARGETS, INFERENCE_SERVER_INFO, InferenceHttpServer],
    };
  }
}
