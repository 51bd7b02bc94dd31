import { ScalarType, type DescEnum, type DescField, type DescMessage, type DescService } from '@bufbuild/protobuf';
import { rpcPath } from '../rpc/rpc.routes';

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it). */
export type Schema = Record<string, unknown>;

/** An OpenAPI 3.1 document. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, { post: Record<string, unknown> }>;
  components: { schemas: Record<string, Schema>; responses: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  security: Array<Record<string, string[]>>;
}

const ERROR_SCHEMA: Schema = {
  type: 'object',
  description:
    'Why a call failed: the gRPC status code and name, a message for the user, the request id to quote, and the ' +
    'google.rpc.Status details of the service that failed it (ErrorInfo, BadRequest, RetryInfo), flattened. ' +
    'Programs branch on `reason` within `domain`, never on the message.',
  required: ['code', 'status', 'message', 'request_id', 'reason', 'domain', 'metadata', 'field_violations'],
  properties: {
    code: { type: 'integer', description: 'gRPC status code (5 is NOT_FOUND).' },
    status: { type: 'string', description: 'gRPC status name.', examples: ['NOT_FOUND'] },
    message: { type: 'string' },
    request_id: { type: 'string', description: 'The x-request-id of the request, as the services logged it.' },
    reason: {
      type: 'string',
      pattern: '^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$',
      description: "The failure's stable name (ErrorInfo.reason); the status name when the service named none.",
      examples: ['RUN_NOT_FOUND'],
    },
    domain: {
      type: 'string',
      description: 'Who decided the failure (ErrorInfo.domain): <service>.trellis, or gateway.trellis for what the gateway answered itself.',
      examples: ['tracking.trellis'],
    },
    metadata: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Facts about the failure (ErrorInfo.metadata); `resource` is the resource name it concerns.',
      examples: [{ resource: 'runs/0f3c' }],
    },
    field_violations: {
      type: 'array',
      description: 'The wrong fields of the request (BadRequest), on INVALID_ARGUMENT; empty otherwise.',
      items: {
        type: 'object',
        required: ['field', 'description'],
        properties: {
          field: { type: 'string', description: 'The path of the field in the request message.', examples: ['tags[2].key'] },
          description: { type: 'string', description: 'What is wrong with it.' },
          reason: { type: 'string', description: 'The violation\'s stable name, when it has one.', examples: ['STRING_MAX_LEN'] },
        },
      },
    },
    retry_delay_seconds: {
      type: 'number',
      minimum: 0,
      description: 'How long to wait before a retry can succeed (RetryInfo), when known: on RESOURCE_EXHAUSTED and UNAVAILABLE.',
    },
  },
};

const INT64: Schema = { type: 'string', format: 'int64', pattern: '^-?[0-9]+$', description: 'A 64-bit integer, as a decimal string (numbers are accepted too).' };
const UINT64: Schema = { ...INT64, format: 'uint64', pattern: '^[0-9]+$' };
const INT32: Schema = { type: 'integer', format: 'int32' };
const UINT32: Schema = { type: 'integer', format: 'uint32', minimum: 0 };
const BYTES: Schema = { type: 'string', format: 'byte', contentEncoding: 'base64' };

const SCALARS: Record<ScalarType, Schema> = {
  [ScalarType.DOUBLE]: { type: 'number', format: 'double' },
  [ScalarType.FLOAT]: { type: 'number', format: 'float' },
  [ScalarType.INT64]: INT64,
  [ScalarType.SINT64]: INT64,
  [ScalarType.SFIXED64]: INT64,
  [ScalarType.UINT64]: UINT64,
  [ScalarType.FIXED64]: UINT64,
  [ScalarType.INT32]: INT32,
  [ScalarType.SINT32]: INT32,
  [ScalarType.SFIXED32]: INT32,
  [ScalarType.UINT32]: UINT32,
  [ScalarType.FIXED32]: UINT32,
  [ScalarType.BOOL]: { type: 'boolean' },
  [ScalarType.STRING]: { type: 'string' },
  [ScalarType.BYTES]: BYTES,
};

const nullable = (schema: Schema): Schema => ({ ...schema, type: [schema.type, 'null'] });

/** Well-known types, inline, as the protobuf JSON mapping writes them. */
const WELL_KNOWN: Record<string, Schema> = {
  'google.protobuf.Timestamp': { type: 'string', format: 'date-time', description: 'RFC 3339, in UTC (Z).' },
  'google.protobuf.Duration': { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]{1,9})?s$', description: 'Seconds with an s suffix: "1.5s".' },
  'google.protobuf.FieldMask': { type: 'string', description: 'Comma-separated field paths, in lowerCamelCase.' },
  'google.protobuf.Struct': { type: 'object', additionalProperties: true },
  'google.protobuf.Value': { description: 'Any JSON value.' },
  'google.protobuf.ListValue': { type: 'array', items: {} },
  'google.protobuf.Empty': { type: 'object' },
  'google.protobuf.Any': { type: 'object', required: ['@type'], properties: { '@type': { type: 'string' } }, additionalProperties: true },
  'google.protobuf.DoubleValue': nullable(SCALARS[ScalarType.DOUBLE]),
  'google.protobuf.FloatValue': nullable(SCALARS[ScalarType.FLOAT]),
  'google.protobuf.Int64Value': nullable(INT64),
  'google.protobuf.UInt64Value': nullable(UINT64),
  'google.protobuf.Int32Value': nullable(INT32),
  'google.protobuf.UInt32Value': nullable(UINT32),
  'google.protobuf.BoolValue': { type: ['boolean', 'null'] },
  'google.protobuf.StringValue': { type: ['string', 'null'] },
  'google.protobuf.BytesValue': nullable(BYTES),
};

const ref = (typeName: string): Schema => ({ $ref: `#/components/schemas/${typeName}` });

/**
 * The OpenAPI 3.1 document of the generic RPC routes: one POST path per method, and a component
 * schema for every message and enum they reach, in the protobuf JSON mapping (64-bit integers as
 * strings, enums by name, bytes in base64, Timestamp as an RFC 3339 string, maps as objects).
 * Field comments are not in protobuf-es descriptors, so schemas carry none. `routedByServiceField`
 * are the services every platform service answers for itself (its plugin instances): their paths
 * say that the request's `service` field names which one answers.
 */
export function buildOpenApi(exposed: Readonly<Record<string, readonly DescService[]>>, routedByServiceField: readonly DescService[] = []): OpenApiDocument {
  const schemas: Record<string, Schema> = { Error: ERROR_SCHEMA };
  const pending: Array<DescMessage | DescEnum> = [];
  const use = (type: DescMessage | DescEnum): Schema => {
    const inline = WELL_KNOWN[type.typeName];
    if (inline) return inline;
    if (!(type.typeName in schemas)) {
      schemas[type.typeName] = {};
      pending.push(type);
    }
    return ref(type.typeName);
  };

  const tags: OpenApiDocument['tags'] = [];
  const paths: OpenApiDocument['paths'] = {};
  const owners = Object.keys(exposed);
  const answeredBy: Array<[DescService, string]> = [
    ...Object.entries(exposed).flatMap(([owner, services]) => services.map((service): [DescService, string] => [service, `Answered by the ${owner} service.`])),
    ...routedByServiceField.map((service): [DescService, string] => [
      service,
      `Answered by the platform service the request's \`service\` field names (${owners.join(', ')}), for its own instances.`,
    ]),
  ];
  for (const [service, description] of answeredBy) {
    tags.push({ name: service.typeName, description });
    for (const method of service.methods) {
      const streamsIn = method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming';
      const streamsOut = method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming';
      paths[rpcPath(service, method)] = {
        post: {
          operationId: `${service.name}_${method.name}`,
          tags: [service.typeName],
          summary: `${service.name}.${method.name} (${method.methodKind.replace('_', ' ')})`,
          requestBody: {
            required: !streamsIn,
            description: streamsIn ? 'NDJSON: one request message per line, sent to the call as it arrives.' : undefined,
            content: { [streamsIn ? 'application/x-ndjson' : 'application/json']: { schema: use(method.input) } },
          },
          responses: {
            '200': {
              description: streamsOut
                ? 'NDJSON: one response message per line. A failure after the first line ends the stream with a line {"error": Error}.'
                : 'The response message; every field is present, defaults included.',
              content: { [streamsOut ? 'application/x-ndjson' : 'application/json']: { schema: use(method.output) } },
            },
            default: { $ref: '#/components/responses/Error' },
          },
        },
      };
    }
  }

  for (let type = pending.shift(); type; type = pending.shift()) {
    schemas[type.typeName] = type.kind === 'enum' ? enumSchema(type) : messageSchema(type, use);
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Trellis',
      version: 'v1',
      description:
        'Every RPC of the Trellis services as JSON over HTTP: POST /v1/<package.Service>/<Method> with the request message as ' +
        'its body, in the protobuf JSON mapping. Unknown fields are refused. Authenticate with `Authorization: Bearer <API key or token>` ' +
        'or `Authorization: Basic base64(<any user>:<API key>)`.',
    },
    tags,
    paths,
    components: {
      schemas,
      responses: {
        Error: {
          description: 'The call failed; the HTTP status follows the gRPC code (google.api HTTP mapping).',
          content: { 'application/json': { schema: ref('Error') } },
        },
      },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key (trellis_...), which the gateway exchanges for a token, or a token.' },
        basicAuth: { type: 'http', scheme: 'basic', description: 'Any user name, and an API key as the password (what MLflow clients send).' },
      },
    },
    security: [{ bearerAuth: [] }, { basicAuth: [] }],
  };
}

function enumSchema(type: DescEnum): Schema {
  return { type: 'string', enum: type.values.map((value) => value.name), title: type.name };
}

function messageSchema(type: DescMessage, use: (type: DescMessage | DescEnum) => Schema): Schema {
  const properties: Record<string, Schema> = {};
  for (const field of type.fields) {
    const schema = { ...fieldSchema(field, use) };
    if (field.oneof) {
      const members = field.oneof.fields.map((member) => member.jsonName).join(', ');
      schema.description = `One of the oneof ${field.oneof.name}: set at most one of ${members}.`;
    }
    if (field.deprecated) schema.deprecated = true;
    properties[field.jsonName] = schema;
  }
  return { type: 'object', title: type.name, properties };
}

function fieldSchema(field: DescField, use: (type: DescMessage | DescEnum) => Schema): Schema {
  switch (field.fieldKind) {
    case 'scalar':
      return SCALARS[field.scalar];
    case 'enum':
      return use(field.enum);
    case 'message':
      return use(field.message);
    case 'list':
      return { type: 'array', items: field.listKind === 'scalar' ? SCALARS[field.scalar] : use(field.listKind === 'enum' ? field.enum : field.message) };
    case 'map':
      return {
        type: 'object',
        additionalProperties: field.mapKind === 'scalar' ? SCALARS[field.scalar] : use(field.mapKind === 'enum' ? field.enum : field.message),
      };
  }
}
