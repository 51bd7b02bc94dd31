import { Injectable } from '@nestjs/common';
import { excerpt, InjectPluginInstances, InvalidArgumentError, NotFoundError, PluginInstances } from '@trellis/platform';

/** The service's runtime plugin instances, by name, as revisions name them. */
@Injectable()
export class Runtimes {
  constructor(@InjectPluginInstances('runtime') private readonly instances: PluginInstances<'runtime'>) {}

  /**
   * The instance a revision runs on: `name`, or the service's only one when `name` is empty.
   * NOT_FOUND (RUNTIME_NOT_FOUND) naming the ones there are for an unknown name.
   */
  choose(name: string, field = 'runtime'): string {
    const names = this.instances.names();
    const there = names.length ? `there are ${names.join(', ')}` : 'there are none (add a runtime instance, such as runtime-onnx, first)';
    if (name === '') {
      if (names.length === 1) return names[0];
      throw new InvalidArgumentError(`is required when the service has more or fewer than one runtime instance; ${there}`, field);
    }
    if (!this.instances.has(name)) throw new NotFoundError(`${field}: no runtime instance is named "${excerpt(name)}"; ${there}`, { reason: 'RUNTIME_NOT_FOUND' });
    return name;
  }
}
