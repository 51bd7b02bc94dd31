import { status } from '@grpc/grpc-js';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ts from 'typescript';

const root = join(__dirname, '..', '..');

/** gRPC's code names (`NOT_FOUND`): they open a list of reasons in a comment and are never reasons of their own. */
const CODE_NAMES = new Set(Object.keys(status).filter((key) => Number.isNaN(Number(key))));

/** An UPPER_SNAKE word of two or more parts, as reasons are written; single words (PENDING, READY) are states. */
const UPPER_SNAKE = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g;

/** A reason a comment names, with the RPC whose comment names it. */
interface DocumentedReason {
  rpc: string;
  reason: string;
}

/** The comment lines above each `rpc` of the proto's services, joined into one text per RPC. */
function rpcComments(proto: string): Map<string, string> {
  const comments = new Map<string, string>();
  let inService = false;
  let pending: string[] = [];
  for (const line of proto.split('\n')) {
    if (/^service \w+ \{/.test(line)) inService = true;
    else if (/^\}/.test(line)) inService = false;
    if (!inService) continue;
    const comment = /^\s*\/\/ ?(.*)$/.exec(line);
    const rpc = /^\s*rpc (\w+)\(/.exec(line);
    if (comment) pending.push(comment[1]);
    else if (rpc) comments.set(rpc[1], pending.join(' '));
    if (!comment) pending = [];
  }
  return comments;
}

/** The text inside the parenthesis that opens at `open`, up to its matching close. */
function parenthesized(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

/** The text from `start` to the end of its sentence (a `.` or `;` outside parentheses), with parenthesized asides removed. */
function sentenceOutsideParentheses(text: string, start: number): string {
  let depth = 0;
  let kept = '';
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (depth === 0 && (char === ';' || (char === '.' && (i + 1 === text.length || text[i + 1] === ' ')))) break;
    else if (depth === 0) kept += char;
  }
  return kept;
}

const isReason = (word: string) => !CODE_NAMES.has(word) && !word.endsWith('_UNSPECIFIED');

/**
 * The reasons an RPC comment names, in the two forms the contracts use: after a code, in
 * parentheses (`NOT_FOUND (MODEL_NOT_FOUND, VERSION_NOT_FOUND)`, `FAILED_PRECONDITION
 * (RUN_NOT_ACTIVE: the run is deleted)`), or after a code and a colon, each with its own aside
 * (`NOT_FOUND: PROJECT_NOT_FOUND (as GetProject), PRINCIPAL_NOT_FOUND (no such user).`). A code
 * followed by prose (`INVALID_ARGUMENT: kind PRINCIPAL_KIND_UNSPECIFIED, ...`) names none.
 */
function reasonsOfComment(comment: string): string[] {
  const reasons: string[] = [];
  for (const match of comment.matchAll(/\b([A-Z][A-Z_]+)\b/g)) {
    if (!CODE_NAMES.has(match[1])) continue;
    const after = match.index + match[0].length;
    const opening = /^\s*\(/.exec(comment.slice(after));
    const listed = /^:\s*/.exec(comment.slice(after));
    let words: string[] = [];
    if (opening) {
      words = parenthesized(comment, after + opening[0].length - 1).match(UPPER_SNAKE) ?? [];
    } else if (listed && new RegExp(`^${UPPER_SNAKE.source}`).test(comment.slice(after + listed[0].length))) {
      words = sentenceOutsideParentheses(comment, after + listed[0].length).match(UPPER_SNAKE) ?? [];
    }
    reasons.push(...words.filter(isReason));
  }
  return [...new Set(reasons)];
}

/** Every reason the RPC comments of one proto file name. */
function reasonsOfProto(proto: string): DocumentedReason[] {
  return [...rpcComments(proto)].flatMap(([rpc, comment]) => reasonsOfComment(comment).map((reason) => ({ rpc, reason })));
}

/** What a lib's code holds: every UPPER_SNAKE string literal, and those passed as an error's `reason: '...'`, with where. */
interface CodeReasons {
  literals: Set<string>;
  passed: Array<{ file: string; reason: string }>;
}

function reasonsOfCode(files: Array<{ path: string; text: string }>): CodeReasons {
  const found: CodeReasons = { literals: new Set(), passed: [] };
  for (const { path, text } of files) {
    const visit = (node: ts.Node): void => {
      if (ts.isStringLiteralLike(node) && new RegExp(`^${UPPER_SNAKE.source}$`).test(node.text)) found.literals.add(node.text);
      if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text === 'reason' && ts.isStringLiteralLike(node.initializer)) {
        found.passed.push({ file: path, reason: node.initializer.text });
      }
      ts.forEachChild(node, visit);
    };
    visit(ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS));
  }
  return found;
}

/**
 * Reasons a comment promises that neither the code nor the kit (`sentByKit`) ever writes, and
 * reasons the code sends that no comment lists.
 */
function mismatches(documented: DocumentedReason[], code: CodeReasons, sentByKit: ReadonlySet<string> = new Set()): { unsent: string[]; undocumented: string[] } {
  const named = new Set(documented.map(({ reason }) => reason));
  return {
    unsent: documented.filter(({ reason }) => !code.literals.has(reason) && !sentByKit.has(reason)).map(({ rpc, reason }) => `${rpc}: ${reason}`),
    undocumented: code.passed.filter(({ reason }) => !named.has(reason)).map(({ file, reason }) => `${file}: ${reason}`),
  };
}

/** The non-spec TypeScript files under `dir`, with their text. */
function sourcesUnder(dir: string): Array<{ path: string; text: string }> {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourcesUnder(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [{ path: relative(root, path), text: readFileSync(path, 'utf8') }] : [];
  });
}

/** The services whose contracts live in proto/trellis/<service>/v1/*_service.proto and whose code in libs/<service>. */
const services = readdirSync(join(root, 'proto', 'trellis')).filter(
  (service) =>
    existsSync(join(root, 'libs', service, 'src')) &&
    existsSync(join(root, 'proto', 'trellis', service, 'v1')) &&
    readdirSync(join(root, 'proto', 'trellis', service, 'v1')).some((name) => name.endsWith('_service.proto')),
);

/**
 * The reasons the kit passes to its errors: it sends them on every service's behalf (a Caller's
 * `assertOrgAdmin` sends ORG_ADMIN_REQUIRED), so a service's comments may name them without the
 * service's code writing them again.
 */
const kitReasons = new Set(reasonsOfCode(sourcesUnder(join(root, 'libs', 'platform', 'src'))).passed.map(({ reason }) => reason));

describe('error reasons: the contracts and the code agree', () => {
  it('checks the services that promise reasons', () => {
    expect(services).toEqual(expect.arrayContaining(['governance', 'registry', 'tracking']));
  });

  it.each(services)('%s sends every reason its RPC comments name, and names every reason it sends', (service) => {
    const protoDir = join(root, 'proto', 'trellis', service, 'v1');
    const documented = readdirSync(protoDir)
      .filter((name) => name.endsWith('_service.proto'))
      .flatMap((name) => reasonsOfProto(readFileSync(join(protoDir, name), 'utf8')));
    const code = reasonsOfCode(sourcesUnder(join(root, 'libs', service, 'src')));
    expect(documented.length).toBeGreaterThan(0);
    expect(code.passed.length).toBeGreaterThan(0);
    expect(mismatches(documented, code, kitReasons)).toEqual({ unsent: [], undocumented: [] });
  });

  describe('on a sample', () => {
    const proto = [
      'service SampleService {',
      '  // GetThing returns a thing.',
      '  // Errors: NOT_FOUND (THING_NOT_FOUND, or THING_TAG_NOT_FOUND when the tag is missing);',
      '  // FAILED_PRECONDITION (THING_LOCKED: someone holds it); INVALID_ARGUMENT (a bad name).',
      '  rpc GetThing(GetThingRequest) returns (GetThingResponse) {',
      '    option idempotency_level = NO_SIDE_EFFECTS;',
      '  }',
      '  // MoveThing moves a thing. INVALID_ARGUMENT: kind THING_KIND_UNSPECIFIED, or a bad place.',
      '  // NOT_FOUND: THING_NOT_FOUND (as GetThing), PLACE_NOT_FOUND (no such place). PERMISSION_DENIED for',
      '  // a place the caller may not use, as PLACE_HIDDEN would tell.',
      '  rpc MoveThing(MoveThingRequest) returns (MoveThingResponse);',
      '}',
    ].join('\n');
    const code = (reasons: string[]) => [
      { path: 'thing.service.ts', text: reasons.map((reason) => `throw new NotFoundError('gone', { reason: '${reason}' });`).join('\n') },
    ];
    const all = ['THING_NOT_FOUND', 'THING_TAG_NOT_FOUND', 'THING_LOCKED', 'PLACE_NOT_FOUND'];

    it('reads the reasons of both comment forms, and neither enum values, codes nor prose', () => {
      expect(reasonsOfProto(proto)).toEqual([
        { rpc: 'GetThing', reason: 'THING_NOT_FOUND' },
        { rpc: 'GetThing', reason: 'THING_TAG_NOT_FOUND' },
        { rpc: 'GetThing', reason: 'THING_LOCKED' },
        { rpc: 'MoveThing', reason: 'THING_NOT_FOUND' },
        { rpc: 'MoveThing', reason: 'PLACE_NOT_FOUND' },
      ]);
    });

    it('agrees when both sides name the same reasons', () => {
      expect(mismatches(reasonsOfProto(proto), reasonsOfCode(code(all)))).toEqual({ unsent: [], undocumented: [] });
    });

    it('fails a reason added to a comment only, and one added to the code only', () => {
      const commentOnly = proto.replace('(THING_LOCKED:', '(THING_LOCKED, THING_FROZEN:');
      expect(mismatches(reasonsOfProto(commentOnly), reasonsOfCode(code(all)))).toEqual({ unsent: ['GetThing: THING_FROZEN'], undocumented: [] });
      expect(mismatches(reasonsOfProto(proto), reasonsOfCode(code([...all, 'THING_MELTED'])))).toEqual({ unsent: [], undocumented: ['thing.service.ts: THING_MELTED'] });
    });

    it("counts a reason the kit sends for the service as sent, and only the kit's", () => {
      const withoutLock = code(all.filter((reason) => reason !== 'THING_LOCKED'));
      expect(mismatches(reasonsOfProto(proto), reasonsOfCode(withoutLock), new Set(['THING_LOCKED']))).toEqual({ unsent: [], undocumented: [] });
      expect(mismatches(reasonsOfProto(proto), reasonsOfCode(withoutLock), new Set(['THING_MELTED']))).toEqual({ unsent: ['GetThing: THING_LOCKED'], undocumented: [] });
    });

    it('knows the reason the kit sends for org-admin-only calls', () => {
      expect(kitReasons).toContain('ORG_ADMIN_REQUIRED');
    });
  });
});
