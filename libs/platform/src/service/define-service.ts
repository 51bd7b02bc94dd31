import type { DescService } from '@bufbuild/protobuf';
import type { Type } from '@nestjs/common';
import type { DataSourceOptions } from 'typeorm';

/**
 * Everything the kit needs to run one Trellis service, in either mode. A service lib exports one
 * of these; `apps/standalone` and `apps/<service>` each register it with one line.
 */
export interface ServiceDefinition {
  /** Lowercase name: `governance`, `tracking`, ... Used in config keys, database names and logs. */
  name: string;
  /** The gRPC port used unless configured otherwise. */
  defaultPort: number;
  /** The service's Nest module: its gRPC controllers and their providers. */
  module: Type<unknown>;
  /** The protobuf-es services it answers; every method must have a handler with a declared permission. */
  grpcServices: readonly DescService[];
  /**
   * Other platform services this one calls (registry calls tracking and governance). A process
   * that does not host one of them refuses to start unless `services.<name>.address` says where it is.
   */
  calls?: readonly string[];
  /** TypeORM entities of the service's own database. */
  entities?: DataSourceOptions['entities'];
  /** Migrations of the service's own database, in order. */
  migrations?: DataSourceOptions['migrations'];
}

/** Declares a service (identity function, for type checking and discoverability). */
export function defineService(definition: ServiceDefinition): ServiceDefinition {
  if (!/^[a-z][a-z0-9]*$/.test(definition.name)) {
    throw new Error(`service name "${definition.name}" must be lowercase letters and digits`);
  }
  return definition;
}
