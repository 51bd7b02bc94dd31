// Writes a .proto file back from its descriptor (a FileDescriptorProto), so that buf can import a
// schema that an npm package ships only as generated code: @bufbuild/protovalidate embeds
// buf/validate/validate.proto in its validate_pb, and buf's schema registry is out of reach here.
// Comments are not in a descriptor, so the source has none; buf compiles it back to the same descriptor.
import { createRegistry, getExtension, isFieldSet, ScalarType } from '@bufbuild/protobuf';
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FieldDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';

/** The .proto source of `file` (a DescFile), options and all, without comments. */
export function protoSource(file, header) {
  const registry = createRegistry(...withDependencies(file));
  const proto = file.proto;
  const out = [...header.map((line) => `// ${line}`), '', `syntax = "${proto.syntax || 'proto2'}";`, '', `package ${proto.package};`, ''];
  for (const dependency of proto.dependency) out.push(`import "${dependency}";`);
  out.push('');
  out.push(...optionLines(proto.options, registry, ''));
  for (const message of proto.messageType) out.push('', ...messageLines(message, registry, '', proto.syntax));
  for (const enumType of proto.enumType) out.push('', ...enumLines(enumType, registry, ''));
  out.push(...extensionLines(proto.extension, registry, ''));
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

function withDependencies(file) {
  return [file, ...file.dependencies.flatMap(withDependencies)];
}

function messageLines(message, registry, indent, syntax) {
  const inner = `${indent}  `;
  const lines = [`${indent}message ${message.name} {`];
  lines.push(...optionLines(message.options, registry, inner));
  for (const range of message.reservedRange) lines.push(`${inner}reserved ${rangeText(range.start, range.end - 1)};`);
  if (message.reservedName.length) lines.push(`${inner}reserved ${message.reservedName.map(quoted).join(', ')};`);
  for (const range of message.extensionRange) lines.push(`${inner}extensions ${rangeText(range.start, range.end - 1)};`);
  const printedOneofs = new Set();
  for (const field of message.field) {
    const oneof = isFieldSet(field, FieldDescriptorProtoSchema.field.oneofIndex) ? field.oneofIndex : undefined;
    if (oneof === undefined || field.proto3Optional) {
      lines.push(`${inner}${fieldLine(field, registry, syntax)}`);
    } else if (!printedOneofs.has(oneof)) {
      printedOneofs.add(oneof);
      const declaration = message.oneofDecl[oneof];
      lines.push(`${inner}oneof ${declaration.name} {`);
      lines.push(...optionLines(declaration.options, registry, `${inner}  `));
      for (const member of message.field.filter((candidate) => isFieldSet(candidate, FieldDescriptorProtoSchema.field.oneofIndex) && candidate.oneofIndex === oneof)) {
        lines.push(`${inner}  ${fieldLine(member, registry, syntax, true)}`);
      }
      lines.push(`${inner}}`);
    }
  }
  for (const nested of message.nestedType) lines.push(...messageLines(nested, registry, inner, syntax));
  for (const nested of message.enumType) lines.push(...enumLines(nested, registry, inner));
  lines.push(...extensionLines(message.extension, registry, inner));
  lines.push(`${indent}}`);
  return lines;
}

function fieldLine(field, registry, syntax, inOneof = false) {
  const label = field.label === FieldDescriptorProto_Label.REPEATED ? 'repeated ' : inOneof ? '' : field.label === FieldDescriptorProto_Label.REQUIRED ? 'required ' : syntax === 'proto3' && !field.proto3Optional ? '' : 'optional ';
  const type = field.typeName || FieldDescriptorProto_Type[field.type].toLowerCase();
  const options = [];
  if (isFieldSet(field, FieldDescriptorProtoSchema.field.defaultValue)) options.push(`default = ${field.type === FieldDescriptorProto_Type.STRING ? quoted(field.defaultValue) : field.defaultValue}`);
  if (isFieldSet(field, FieldDescriptorProtoSchema.field.jsonName) && field.jsonName !== camelCase(field.name)) options.push(`json_name = ${quoted(field.jsonName)}`);
  options.push(...optionAssignments(field.options, registry));
  const suffix = options.length ? ` [${options.join(', ')}]` : '';
  return `${label}${type} ${field.name} = ${field.number}${suffix};`;
}

function enumLines(enumType, registry, indent) {
  const inner = `${indent}  `;
  const lines = [`${indent}enum ${enumType.name} {`, ...optionLines(enumType.options, registry, inner)];
  for (const range of enumType.reservedRange) lines.push(`${inner}reserved ${rangeText(range.start, range.end)};`);
  if (enumType.reservedName.length) lines.push(`${inner}reserved ${enumType.reservedName.map(quoted).join(', ')};`);
  for (const value of enumType.value) {
    const options = optionAssignments(value.options, registry);
    lines.push(`${inner}${value.name} = ${value.number}${options.length ? ` [${options.join(', ')}]` : ''};`);
  }
  lines.push(`${indent}}`);
  return lines;
}

function extensionLines(extensions, registry, indent) {
  const lines = [];
  for (const extendee of new Set(extensions.map((extension) => extension.extendee))) {
    lines.push('', `${indent}extend ${extendee} {`);
    for (const extension of extensions.filter((candidate) => candidate.extendee === extendee)) {
      lines.push(`${indent}  ${fieldLine(extension, registry, 'proto2')}`);
    }
    lines.push(`${indent}}`);
  }
  return lines;
}

function optionLines(options, registry, indent) {
  return optionAssignments(options, registry).map((assignment) => `${indent}option ${assignment};`);
}

/** `name = value` for every option set: standard ones by name, custom ones (extensions) as `(full.name)`. */
function optionAssignments(options, registry) {
  if (!options) return [];
  const schema = registry.getMessage(options.$typeName);
  const assignments = [];
  for (const field of schema.fields) {
    if (isFieldSet(options, field)) assignments.push(`${field.name} = ${textValue(field, options[field.localName])}`);
  }
  for (const number of new Set((options.$unknown ?? []).map((unknown) => unknown.no))) {
    const extension = registry.getExtensionFor(schema, number);
    if (!extension) throw new Error(`option ${number} of ${options.$typeName} is not an extension the file knows`);
    assignments.push(`(${extension.typeName}) = ${textValue(extension, getExtension(options, extension))}`);
  }
  return assignments;
}

/** A field's value in protobuf text format, as option values are written. */
function textValue(field, value) {
  if (field.fieldKind === 'list') return `[${value.map((item) => singleText(field, item)).join(', ')}]`;
  return singleText(field, value);
}

function singleText(field, value) {
  const kind = field.fieldKind === 'list' ? field.listKind : field.fieldKind;
  if (kind === 'message') return messageText(field.message, value);
  if (kind === 'enum') return field.enum.values.find((candidate) => candidate.number === value)?.name ?? String(value);
  if (field.scalar === ScalarType.STRING) return quoted(value);
  if (field.scalar === ScalarType.BYTES) return quoted(Buffer.from(value).toString('latin1'));
  return String(value);
}

function messageText(schema, message) {
  const parts = [];
  for (const field of schema.fields) {
    if (isFieldSet(message, field)) parts.push(`${field.name}: ${textValue(field, message[field.localName])}`);
  }
  return `{${parts.join(' ')}}`;
}

/** A string literal as both .proto and text format read it: escapes for quotes, backslashes and control characters. */
function quoted(text) {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`)}"`;
}

function rangeText(start, end) {
  if (end >= 536870911) return `${start} to max`;
  return start === end ? String(start) : `${start} to ${end}`;
}

function camelCase(name) {
  return name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}
