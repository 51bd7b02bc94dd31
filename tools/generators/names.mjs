// Names the generators accept, and the spellings of one name that generated files use.

/**
 * Names a service may not take: libs, apps and proto packages the repository already has for
 * something else, and words that would read wrongly in paths, config keys or subjects.
 */
export const RESERVED_SERVICE_NAMES = Object.freeze([
  'all', 'app', 'apps', 'audit', 'buf', 'cli', 'deploy', 'docs', 'events', 'examples', 'gateway', 'google', 'kit', 'kittest',
  'lib', 'libs', 'node', 'options', 'platform', 'plugin', 'plugins', 'proto', 'services', 'shared', 'standalone', 'test', 'testing',
  'tools', 'trellis',
]);

/** Nouns a resource may not be, because the generated code already uses them for something else. */
const RESERVED_RESOURCE_NAMES = Object.freeze(['audit', 'event', 'page', 'entity', 'module', 'service', 'config']);

const SERVICE_NAME = /^[a-z][a-z0-9]{0,29}$/;
const RESOURCE_NAME = /^[a-z]{2,30}$/;

/** Throws an Error whose message says what is wrong with `name` as a service name, and what would do. */
export function checkServiceName(name) {
  if (typeof name !== 'string' || name === '') throw new Error('name the service: npm run new:service <name>, e.g. npm run new:service data');
  if (!SERVICE_NAME.test(name)) {
    throw new Error(`"${name}" is not a service name: use 1 to 30 lowercase letters and digits, starting with a letter (it becomes trellis.${name.toLowerCase().replace(/[^a-z0-9]/g, '')}.v1, TRELLIS_<NAME>_* and libs/<name>)`);
  }
  if (RESERVED_SERVICE_NAMES.includes(name)) throw new Error(`"${name}" is reserved (${RESERVED_SERVICE_NAMES.join(', ')}); choose another service name`);
}

/** Throws an Error whose message says what is wrong with `resource` (and its plural `resources`) as the first resource of service `service`. */
export function checkResourceName(resource, service, resources = plural(resource)) {
  if (!RESOURCE_NAME.test(resource)) throw new Error(`"${resource}" is not a resource name: use 2 to 30 lowercase letters, singular (--resource dataset)`);
  if (!RESOURCE_NAME.test(resources) || resources === resource) throw new Error(`"${resources}" is not a plural of "${resource}": use 2 to 30 lowercase letters (--plural shelves)`);
  if (RESERVED_RESOURCE_NAMES.includes(resource)) throw new Error(`"${resource}" is reserved for the generated code (${RESERVED_RESOURCE_NAMES.join(', ')}); choose another resource name`);
  if (resource === service) throw new Error(`the resource must be named differently from the service ("${service}"): their modules would both be ${pascal(service)}Module`);
}

/** `dataset` -> `Dataset`. */
export function pascal(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** The English plural of a lowercase noun, by the regular rules (`job` -> `jobs`, `policy` -> `policies`, `batch` -> `batches`). */
export function plural(noun) {
  if (/[^aeiou]y$/.test(noun)) return `${noun.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(noun)) return `${noun}es`;
  return `${noun}s`;
}

/** Every spelling of a service and its resource that the service templates use, by placeholder. */
export function serviceSpellings({ name, resource, resources = plural(resource), port, migration }) {
  return {
    name,
    Name: pascal(name),
    NAME: name.toUpperCase(),
    resource,
    Resource: pascal(resource),
    RESOURCE: resource.toUpperCase(),
    resources,
    Resources: pascal(resources),
    RESOURCES: resources.toUpperCase(),
    port: String(port),
    migration: String(migration),
  };
}
