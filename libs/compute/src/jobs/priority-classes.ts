import { Inject, Injectable } from '@nestjs/common';
import { InvalidArgumentError, SERVICE_CONFIG } from '@trellis/platform';
import type { ComputeConfig } from '../compute.config';

/** A named priority. */
export interface PriorityClassInfo {
  name: string;
  priority: number;
  isDefault: boolean;
}

/** The priority classes of `services.compute.priorityClasses`, highest first; the default one must be among them. */
export function parsePriorityClasses(spec: string, defaultName: string): PriorityClassInfo[] {
  const classes = spec.split(',').map((pair) => {
    const [name, value] = pair.split('=').map((part) => part.trim());
    return { name, priority: Number(value), isDefault: name === defaultName };
  });
  if (!classes.some((info) => info.isDefault)) {
    throw new Error(`services.compute.defaultPriorityClass is "${defaultName}", which services.compute.priorityClasses (${spec}) does not name`);
  }
  return classes.sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
}

/** The service's priority classes, from its config. */
@Injectable()
export class PriorityClasses {
  readonly all: readonly PriorityClassInfo[];

  constructor(@Inject(SERVICE_CONFIG) config: ComputeConfig) {
    this.all = parsePriorityClasses(config.priorityClasses, config.defaultPriorityClass);
  }

  /** The class named `name` (the default one for ''); INVALID_ARGUMENT naming the classes there are for another. */
  resolve(name: string): PriorityClassInfo {
    const found = name === '' ? this.all.find((info) => info.isDefault) : this.all.find((info) => info.name === name);
    if (found) return found;
    throw new InvalidArgumentError(`no priority class is named "${name.slice(0, 63)}"; there are ${this.all.map((info) => info.name).join(', ')}`, 'spec.priority_class', {
      reason: 'PRIORITY_CLASS_NOT_FOUND',
    });
  }
}
