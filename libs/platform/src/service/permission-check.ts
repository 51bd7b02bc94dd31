import type { DescService } from '@bufbuild/protobuf';
import type { DynamicModule, Type } from '@nestjs/common';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { PERMISSION_KEY, type PermissionRequirement } from '../auth/permission.decorator';

type ModuleRef = Type<unknown> | DynamicModule | Promise<DynamicModule>;

/** A gRPC method as the kit found it among a module's controllers. */
export interface GrpcHandlerInfo {
  service: string;
  method: string;
  /** Whether its handler declares a permission (`@Requires`, `@Authenticated` or `@Public`). */
  declared: boolean;
  /** Whether it answers without a token (`@Public`). */
  public: boolean;
  /** The controller class that declares the handler. */
  controller: Type<unknown>;
  /** The handler's property name on the controller. */
  key: string;
  /** How the handler takes its requests: `rx_stream` for `@GrpcStreamMethod` (an Observable of messages), else `no_stream`. */
  streaming: string;
  /** The permission the handler declares, if any. */
  requirement?: PermissionRequirement;
}

/**
 * Lists, for every method of the given services, whether a controller in the module tree handles
 * it and whether that handler declares a permission. Methods without a handler are omitted.
 */
export function grpcHandlersOf(module: ModuleRef, services: readonly DescService[]): Map<string, GrpcHandlerInfo> {
  const found = new Map<string, GrpcHandlerInfo>();
  const wanted = new Set(services.flatMap((service) => service.methods.map((m) => `${service.name}/${m.name}`)));
  for (const controller of controllersOf(module, new Set())) {
    const prototype = controller.prototype as Record<string, unknown>;
    for (const key of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[key];
      if (typeof handler !== 'function') continue;
      const patterns = (Reflect.getMetadata(PATTERN_METADATA, handler) ?? []) as Array<{ service?: string; rpc?: string; streaming?: string }>;
      for (const { service, rpc, streaming } of patterns) {
        const id = `${service}/${rpc}`;
        if (!service || !rpc || !wanted.has(id)) continue;
        const requirement = Reflect.getMetadata(PERMISSION_KEY, handler) as PermissionRequirement | undefined;
        found.set(id, {
          service,
          method: rpc,
          declared: requirement !== undefined,
          public: !!requirement && 'public' in requirement,
          controller,
          key,
          streaming: streaming ?? 'no_stream',
          requirement,
        });
      }
    }
  }
  return found;
}

/**
 * Throws, naming each one, if a method of the services has no handler or a handler that declares
 * no permission. Called before a service starts, so an unguarded method never goes live.
 */
export function assertEveryMethodGuarded(module: ModuleRef, services: readonly DescService[]): void {
  const handlers = grpcHandlersOf(module, services);
  const problems: string[] = [];
  for (const service of services) {
    for (const method of service.methods) {
      const handler = handlers.get(`${service.name}/${method.name}`);
      if (!handler) problems.push(`${service.typeName}/${method.name} has no handler`);
      else if (!handler.declared) problems.push(`${service.typeName}/${method.name} declares no permission (@Requires, @Authenticated or @Public)`);
    }
  }
  if (problems.length) throw new Error(`refusing to start:\n  ${problems.join('\n  ')}`);
}

function controllersOf(module: ModuleRef, seen: Set<unknown>): Type<unknown>[] {
  if (module instanceof Promise || seen.has(module)) return [];
  seen.add(module);
  const type = 'module' in module ? module.module : module;
  const dynamic = 'module' in module ? module : undefined;
  const controllers = [...((Reflect.getMetadata('controllers', type) ?? []) as Type<unknown>[]), ...(dynamic?.controllers ?? [])];
  const imports = [...((Reflect.getMetadata('imports', type) ?? []) as ModuleRef[]), ...((dynamic?.imports ?? []) as ModuleRef[])];
  return [...controllers, ...imports.flatMap((imported) => controllersOf(imported, seen))];
}
