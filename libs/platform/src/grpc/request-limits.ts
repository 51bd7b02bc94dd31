import { fromBinary, getOption, hasOption, type DescMethod, type Message } from '@bufbuild/protobuf';
import type { Path } from '@bufbuild/protobuf/reflect';
import { createValidator, type Violation } from '@bufbuild/protovalidate';
import { max_request_bytes } from '@trellis/proto';
import { DomainError, excerpt, InvalidArgumentError, ResourceExhaustedError } from '../errors';
import { withinLimitsCheck } from './within-limits';

/** Largest request message of a method that declares no `trellis.options.v1.max_request_bytes`: gRPC's usual 4 MiB. */
export const DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** How much of a map key a violation's field path shows. */
const MAP_KEY_EXCERPT = 32;

/** The largest serialized request message `method` takes, as its proto declares it. */
export function maxRequestBytesOf(method: DescMethod): number {
  return hasOption(method, max_request_bytes) ? getOption(method, max_request_bytes) : DEFAULT_MAX_REQUEST_BYTES;
}

/**
 * A request message the kit refused before any handler saw it: what `requestDecoder` answers in
 * place of the message, and `reason` is the status the call is answered with.
 */
export class RefusedRequest {
  constructor(readonly reason: DomainError) {}
}

const validator = createValidator();

/**
 * Decodes one request message of `method`, or refuses it: RESOURCE_EXHAUSTED, undecoded, when it
 * is larger than the method's `max_request_bytes`; INVALID_ARGUMENT naming the field and the limit
 * when a field breaks the message's `buf.validate` rules (lengths of strings, entries of lists and
 * maps), with a field violation per broken rule. Neither echoes the caller's values. A refusal is a `RefusedRequest`, which the kit's
 * gRPC server answers with its status so that no handler sees it. Rules that do not compile throw.
 * A message that surely keeps within its limits (see withinLimitsCheck) is not walked by protovalidate.
 */
export function requestDecoder(method: DescMethod): (bytes: Buffer) => Message | RefusedRequest {
  const maxBytes = maxRequestBytesOf(method);
  const name = `${method.parent.typeName}/${method.name}`;
  const withinLimits = withinLimitsCheck(method.input);
  return (bytes) => {
    if (bytes.length > maxBytes) {
      return new RefusedRequest(new ResourceExhaustedError(`the request is ${bytes.length} bytes; ${name} takes at most ${maxBytes}`, undefined, { reason: 'REQUEST_TOO_LARGE' }));
    }
    const message = fromBinary(method.input, bytes);
    if (withinLimits?.(message)) return message;
    const result = validator.validate(method.input, message);
    if (result.kind === 'valid') return message;
    // Rules that do not compile are the server's fault: grpc-js answers INTERNAL.
    if (result.kind === 'error') throw result.error;
    return new RefusedRequest(violationError(result.violations));
  };
}

function violationError(violations: readonly Violation[]): InvalidArgumentError {
  const fields = violations.map((violation) => ({
    field: fieldPathOf(violation.field),
    description: `${violation.forKey ? 'a key ' : ''}${violation.message}`,
    reason: reasonOf(violation.ruleId),
  }));
  const [first] = fields;
  const more = fields.length > 1 ? ` (and ${fields.length - 1} more)` : '';
  return new InvalidArgumentError(`${first.field ? `${first.field}: ` : ''}${first.description}${more}`, undefined, { violations: fields });
}

/** A protovalidate rule id (`string.max_len`) as a field violation's UPPER_SNAKE reason (`STRING_MAX_LEN`). */
function reasonOf(ruleId: string): string | undefined {
  const reason = ruleId.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '').toUpperCase();
  return reason || undefined;
}

/** `tags[3].key`, `details["a key"]`: the field a violation is about, map keys cut short. */
function fieldPathOf(path: Path): string {
  return path
    .map((item) => {
      if (item.kind === 'list_sub') return `[${item.index}]`;
      if (item.kind === 'map_sub') return `[${JSON.stringify(typeof item.key === 'string' ? excerpt(item.key, MAP_KEY_EXCERPT) : String(item.key))}]`;
      return `.${item.name}`;
    })
    .join('')
    .replace(/^\./, '');
}
