import { create, createFileRegistry, type DescService } from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
  FileDescriptorProtoSchema,
} from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import { AuditServiceDesc, IdentityServiceDesc, PluginInstanceServiceDesc } from '@trellis/proto';
import { GatewayError } from '../errors/gateway-error';
import { renderJsonError } from '../http/http-server';
import type { RequestContext } from '../http/request-context';
import { EXPOSED_SERVICES, ROUTED_BY_SERVICE_FIELD } from '../upstreams/exposed-services';
import { buildOpenApi, type OpenApiDocument } from './openapi';

/** Every `$ref` in a document. */
function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => (key === '$ref' ? [child as string] : refsIn(child)));
}

function resolve(document: OpenApiDocument, ref: string): unknown {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
}

/** A service whose one message has a field of every kind the JSON mapping treats apart. */
function kitchenSink(): DescService {
  const field = (name: string, number: number, type: Type, extra: Record<string, unknown> = {}) => ({
    name,
    number,
    type,
    label: Label.OPTIONAL,
    jsonName: name.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()),
    ...extra,
  });
  const file = create(FileDescriptorProtoSchema, {
    name: 'trellis/sink/v1/sink.proto',
    package: 'trellis.sink.v1',
    syntax: 'proto3',
    dependency: ['google/protobuf/timestamp.proto', 'google/protobuf/wrappers.proto'],
    enumType: [{ name: 'Colour', value: [{ name: 'COLOUR_UNSPECIFIED', number: 0 }, { name: 'COLOUR_RED', number: 1 }] }],
    messageType: [
      {
        name: 'Sink',
        field: [
          field('size', 1, Type.INT64),
          field('ratio', 2, Type.DOUBLE),
          field('blob', 3, Type.BYTES),
          field('colours', 4, Type.ENUM, { typeName: '.trellis.sink.v1.Colour', label: Label.REPEATED }),
          field('seen_at', 5, Type.MESSAGE, { typeName: '.google.protobuf.Timestamp' }),
          field('labels', 6, Type.MESSAGE, { typeName: '.trellis.sink.v1.Sink.LabelsEntry', label: Label.REPEATED }),
          field('by_name', 7, Type.STRING, { oneofIndex: 0 }),
          field('by_id', 8, Type.UINT64, { oneofIndex: 0 }),
          field('limit', 9, Type.MESSAGE, { typeName: '.google.protobuf.Int32Value' }),
          field('children', 10, Type.MESSAGE, { typeName: '.trellis.sink.v1.Sink', label: Label.REPEATED }),
        ],
        oneofDecl: [{ name: 'selector' }],
        nestedType: [
          {
            name: 'LabelsEntry',
            options: { mapEntry: true },
            field: [field('key', 1, Type.STRING), field('value', 2, Type.MESSAGE, { typeName: '.trellis.sink.v1.Sink' })],
          },
        ],
      },
    ],
    service: [{ name: 'SinkService', method: [{ name: 'Pour', inputType: '.trellis.sink.v1.Sink', outputType: '.trellis.sink.v1.Sink', clientStreaming: true }] }],
  });
  const deps = [file_google_protobuf_timestamp, file_google_protobuf_wrappers];
  return createFileRegistry(file, (name) => deps.find((dep) => dep.name === name.replace(/\.proto$/, ''))).getService('trellis.sink.v1.SinkService')!;
}

describe('the OpenAPI document', () => {
  const document = buildOpenApi(EXPOSED_SERVICES, ROUTED_BY_SERVICE_FIELD);

  it('has a POST path for every method of every exposed service, whose every $ref resolves', () => {
    const methods = [...Object.values(EXPOSED_SERVICES).flat(), ...ROUTED_BY_SERVICE_FIELD]
      .flatMap((service) => service.methods.map((method) => `/v1/${service.typeName}/${method.name}`));
    expect(methods.length).toBeGreaterThan(20);
    expect(Object.keys(document.paths).sort()).toEqual(methods.sort());
    for (const path of methods) {
      expect(document.paths[path].post).toMatchObject({ requestBody: { content: {} }, responses: { '200': {}, default: {} } });
    }
    const refs = refsIn(document);
    expect(refs).toContain('#/components/schemas/trellis.governance.v1.CreateProjectRequest');
    expect(refs.filter((ref) => resolve(document, ref) === undefined)).toEqual([]);
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.securitySchemes).toMatchObject({ bearerAuth: { scheme: 'bearer' }, basicAuth: { scheme: 'basic' } });
  });

  it("lists PluginInstanceService, saying that the request's service field names who answers", () => {
    const path = `/v1/${PluginInstanceServiceDesc.typeName}/CreatePluginInstance`;
    expect(document.paths[path].post).toMatchObject({
      tags: [PluginInstanceServiceDesc.typeName],
      requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/trellis.plugins.v1.CreatePluginInstanceRequest' } } } },
    });
    // Every exposed service that declares plugins is named; governance, tracking and the registry are among them.
    expect(document.tags.find((tag) => tag.name === PluginInstanceServiceDesc.typeName)?.description).toMatch(
      /^Answered by the platform service the request's `service` field names \(governance, tracking, registry(, [a-z]+)*\), for its own instances\.$/,
    );
    expect(document.components.schemas['trellis.plugins.v1.CreatePluginInstanceRequest']).toMatchObject({ properties: { service: { type: 'string' } } });
  });

  it('describes governance messages in the JSON mapping', () => {
    const { schemas } = document.components;
    expect(schemas['trellis.governance.v1.Project']).toMatchObject({
      properties: { encryptAtRest: { type: 'boolean' }, createTime: { type: 'string', format: 'date-time' } },
    });
    expect(schemas['trellis.governance.v1.VerifyAuditChainResponse']).toMatchObject({ properties: { recordsChecked: { type: 'string', format: 'int64' } } });
    expect(schemas['trellis.governance.v1.Role']).toMatchObject({ type: 'string', enum: expect.arrayContaining(['ROLE_VIEWER', 'ROLE_OWNER']) });
    expect(schemas['trellis.governance.v1.Approval']).toMatchObject({ properties: { details: { type: 'object', additionalProperties: { type: 'string' } } } });
  });

  it('describes the error body as the routes write it, details included', () => {
    const details = { reason: 'RUN_NOT_FOUND', domain: 'tracking.trellis', metadata: { resource: 'runs/r1' }, violations: [{ field: 'run_id', description: 'is required' }], retryAfterSeconds: 2 };
    const { body } = renderJsonError(new GatewayError(status.NOT_FOUND, 'run r1 not found', undefined, undefined, details), { requestId: 'req' } as RequestContext);
    const schema = document.components.schemas.Error as { required: string[]; properties: Record<string, unknown> };
    expect(Object.keys(body as object).sort()).toEqual(Object.keys(schema.properties).sort());
    expect(schema.required.every((key) => key in (body as object))).toBe(true);
    expect(document.components.responses).toMatchObject({ Error: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } });
  });

  it('says that server-streaming methods answer NDJSON', () => {
    const path = `/v1/${AuditServiceDesc.typeName}/ExportAuditRecords`;
    expect(Object.keys(document.paths[path].post.responses as object)).toEqual(['200', 'default']);
    expect(document.paths[path].post).toMatchObject({ responses: { '200': { content: { 'application/x-ndjson': {} } } } });
    expect(document.paths[`/v1/${IdentityServiceDesc.typeName}/ListProjects`].post).toMatchObject({ responses: { '200': { content: { 'application/json': {} } } } });
  });

  it('follows the JSON mapping for every kind of field', () => {
    const sink = buildOpenApi({ sink: [kitchenSink()] });
    const schema = sink.components.schemas['trellis.sink.v1.Sink'] as { properties: Record<string, unknown> };
    expect(schema.properties).toEqual({
      size: expect.objectContaining({ type: 'string', format: 'int64' }),
      ratio: { type: 'number', format: 'double' },
      blob: { type: 'string', format: 'byte', contentEncoding: 'base64' },
      colours: { type: 'array', items: { $ref: '#/components/schemas/trellis.sink.v1.Colour' } },
      seenAt: expect.objectContaining({ type: 'string', format: 'date-time' }),
      labels: { type: 'object', additionalProperties: { $ref: '#/components/schemas/trellis.sink.v1.Sink' } },
      byName: { type: 'string', description: 'One of the oneof selector: set at most one of byName, byId.' },
      byId: expect.objectContaining({ type: 'string', format: 'uint64', description: 'One of the oneof selector: set at most one of byName, byId.' }),
      limit: { type: ['integer', 'null'], format: 'int32' },
      children: { type: 'array', items: { $ref: '#/components/schemas/trellis.sink.v1.Sink' } },
    });
    expect(sink.components.schemas['trellis.sink.v1.Colour']).toMatchObject({ enum: ['COLOUR_UNSPECIFIED', 'COLOUR_RED'] });
    expect(sink.paths['/v1/trellis.sink.v1.SinkService/Pour'].post).toMatchObject({ requestBody: { content: { 'application/x-ndjson': {} } } });
    expect(refsIn(sink).filter((ref) => resolve(sink, ref) === undefined)).toEqual([]);
  });
});
