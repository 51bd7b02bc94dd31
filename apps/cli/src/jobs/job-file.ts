import type { JobDatasetInputJson, JobResourcesJson, JobSpecJson, RetryPolicyJson } from '@trellis/proto/trellis/compute/v1/resources_pb';
import { LineCounter, parseDocument } from 'yaml';

/**
 * What a job file asks for: the job's spec as SubmitJob takes it, and what the file may say besides
 * (the queue, a request id, an experiment by name, which the command looks up).
 */
export interface JobFile {
  spec: JobSpecJson;
  queue?: string;
  requestId?: string;
  /** The experiment's name (`experiment:`); `experimentId:` goes into the spec as it is. */
  experiment?: string;
}

/** A job file that is not a job: every problem found, each as `<file>:<line>: <path>: <what is wrong>`. */
export class JobFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file} is not a job spec (see \`trellis jobs submit --help\`):\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  }
}

type Path = ReadonlyArray<string | number>;
type Reader<T> = (value: unknown, path: Path, problems: Problems) => T | undefined;

/**
 * Reads a job file (YAML, so JSON too). Field names are the proto's, in camelCase or snake_case
 * (`cpuMillis`, `cpu_millis`); besides, `command` may be one string (run with `sh -c`), `memoryBytes`
 * a size (`512Mi`, `4Gi`), durations `90s`, `5m`, `1h30m` or seconds, an input just its reference,
 * and an input's mode `download` or `mount`. Throws JobFileError naming every problem by its path.
 */
export function parseJobFile(text: string, file: string): JobFile {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const problems = new Problems(file, (path) => {
    const node = path.length === 0 ? document.contents : document.getIn(path, true);
    const offset = (node as { range?: [number] } | null | undefined)?.range?.[0];
    return offset === undefined ? undefined : lines.linePos(offset).line;
  });
  if (document.errors.length > 0) {
    const [error] = document.errors;
    throw new JobFileError(file, [`${file}:${error.linePos?.[0].line ?? 1}: not valid YAML: ${error.message.split('\n')[0]}`]);
  }
  const job = readObject(document.toJS(), [], problems, TOP_LEVEL);
  if (job && job.name === undefined) problems.add([], 'needs a name');
  if (job && !job.command && !job.image) problems.add([], 'needs a command, or an image to run');
  if (job?.experiment !== undefined && job.experimentId !== undefined) problems.add(['experiment'], 'give experiment (a name) or experimentId, not both');
  if (problems.list.length > 0 || !job) throw new JobFileError(file, problems.list);
  const { queue, requestId, experiment, ...spec } = job;
  return { spec: spec as JobSpecJson, queue: queue as string | undefined, requestId: requestId as string | undefined, experiment: experiment as string | undefined };
}

/** The problems found so far, each with its file, line and path. */
class Problems {
  readonly list: string[] = [];
  constructor(
    private readonly file: string,
    private readonly lineOf: (path: Path) => number | undefined,
  ) {}

  add(path: Path, message: string): void {
    const line = this.lineOf(path);
    const where = path.length === 0 ? 'the file' : path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${part.slice(0, 40)}`)).join('');
    this.list.push(`${this.file}${line === undefined ? '' : `:${line}`}: ${where}: ${message}`);
  }
}

/** An object's fields, each with its reader, by its camelCase name. */
type Fields = Record<string, Reader<unknown>>;

/** The object `value` with each field read by its reader, keyed by the camelCase name; unknown fields are problems. */
function readObject(value: unknown, path: Path, problems: Problems, fields: Fields): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.add(path, `must be a mapping of ${Object.keys(fields).join(', ')}`);
    return undefined;
  }
  const result: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const name = key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
    const reader = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (!reader) {
      const near = closest(name, Object.keys(fields));
      problems.add([...path, key], `unknown field${near ? `; did you mean ${near}?` : `; known here: ${Object.keys(fields).join(', ')}`}`);
      continue;
    }
    if (Object.hasOwn(result, name)) {
      problems.add([...path, key], `${name} is given twice (once in camelCase, once in snake_case)`);
      continue;
    }
    const read = field === null ? undefined : reader(field, [...path, key], problems);
    if (read !== undefined) result[name] = read;
  }
  return result;
}

/** The known name within 2 edits of `name`, if there is one. */
function closest(name: string, known: readonly string[]): string | undefined {
  const distance = (a: string, b: string) => {
    let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      previous = row;
    }
    return previous[b.length];
  };
  return known.map((candidate) => ({ candidate, edits: distance(name, candidate) })).filter(({ edits }) => edits <= 2).sort((a, b) => a.edits - b.edits)[0]?.candidate;
}

function text(maxLength: number, { required = false } = {}): Reader<string> {
  return (value, path, problems) => {
    // YAML reads `true` and `3` as a boolean and a number: a word of a command or a name means their text.
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return void problems.add(path, 'must be a string');
    const string = String(value);
    if (required && string === '') return void problems.add(path, 'must not be empty');
    if (string.length > maxLength) return void problems.add(path, `must be at most ${maxLength} characters`);
    return string;
  };
}

/** An integer from `min` to `max` as a YAML number or a string of digits; int64 fields keep it a string, as proto JSON has them. */
function integer(min: number, max: number, { int64 = false } = {}): Reader<number | string> {
  return (value, path, problems) => {
    const number = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(number) || number < min || number > max) {
      return void problems.add(path, min === 1 && max >= 2 ** 31 - 1 ? 'must be a positive integer' : `must be an integer from ${min} to ${max}`);
    }
    return int64 ? String(number) : number;
  };
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** Bytes: a positive integer, or a size with a unit (`512Mi`, `4Gi`, `2G`). */
const bytes: Reader<string> = (value, path, problems) => {
  const match = typeof value === 'string' ? /^(\d+(?:\.\d+)?)\s*(k|K|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(value.trim()) : null;
  const amount = typeof value === 'number' ? value : match ? Math.round(Number(match[1]) * SIZE_UNITS[match[2] ?? '']) : NaN;
  if (!Number.isSafeInteger(amount) || amount <= 0) return void problems.add(path, 'must be a positive integer of bytes, or a size such as 512Mi or 4Gi');
  return String(amount);
};

/** A duration as proto JSON has it (`90s`) from `90s`, `5m`, `1h30m`, `1.5s` or a number of seconds. */
const duration: Reader<string> = (value, path, problems) => {
  const match = typeof value === 'string' ? /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(value.trim()) : null;
  const seconds = typeof value === 'number' ? value : match && value !== '' ? Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0) : NaN;
  if (!Number.isFinite(seconds) || seconds <= 0) return void problems.add(path, 'must be a duration such as 90s, 5m or 1h30m (or a number of seconds)');
  return `${seconds}s`;
};

/** `command`: a list of strings (the program and its arguments), or one string run by `sh -c`. */
const command: Reader<string[]> = (value, path, problems) => {
  if (typeof value === 'string') return value.trim() === '' ? void problems.add(path, 'must not be empty') : ['sh', '-c', value];
  if (!Array.isArray(value) || value.length === 0) return void problems.add(path, 'must be a list of strings (the program and its arguments), or one string run with sh -c');
  if (value.length > 256) return void problems.add(path, 'must have at most 256 items');
  const items = value.map((item, index) => text(16384)(item, [...path, index], problems));
  return items.every((item) => item !== undefined) ? (items as string[]) : undefined;
};

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `env`: names to values; numbers and booleans are taken as their text. */
const env: Reader<Record<string, string>> = (value, path, problems) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return void problems.add(path, 'must be a mapping of variable names to values');
  const result: Record<string, string> = {};
  for (const [name, variable] of Object.entries(value)) {
    if (!ENV_NAME.test(name)) problems.add([...path, name], 'must be named with letters, digits and _, not starting with a digit');
    else if (typeof variable === 'string' || typeof variable === 'number' || typeof variable === 'boolean') result[name] = String(variable);
    else problems.add([...path, name], 'must be a string, a number or a boolean');
  }
  return result;
};

const MODES: Record<string, string> = { download: 'DATASET_INPUT_MODE_DOWNLOAD', mount: 'DATASET_INPUT_MODE_MOUNT' };

/** A dataset input: its reference alone (downloaded), or `{reference, mode}`. */
const input: Reader<JobDatasetInputJson> = (value, path, problems) => {
  const read = typeof value === 'string' ? { reference: value } : readObject(value, path, problems, INPUT);
  if (!read) return undefined;
  if (read.reference === undefined) return typeof value === 'object' && value !== null && 'reference' in value ? undefined : void problems.add(path, 'needs a reference');
  if (!String(read.reference).startsWith('datasets:/')) {
    return void problems.add(typeof value === 'string' ? path : [...path, 'reference'], 'must be a dataset reference: datasets:/<name>/<version> or datasets:/<name>@<tag>');
  }
  return read as JobDatasetInputJson;
};

const mode: Reader<string> = (value, path, problems) => {
  const name = typeof value === 'string' ? (MODES[value.toLowerCase()] ?? (Object.values(MODES).includes(value) ? value : undefined)) : undefined;
  return name ?? void problems.add(path, 'must be download or mount');
};

function list<T>(item: Reader<T>, maxItems: number): Reader<T[]> {
  return (value, path, problems) => {
    if (!Array.isArray(value)) return void problems.add(path, 'must be a list');
    if (value.length > maxItems) return void problems.add(path, `must have at most ${maxItems} items`);
    const items = value.map((entry, index) => item(entry, [...path, index], problems));
    return items.every((entry) => entry !== undefined) ? (items as T[]) : undefined;
  };
}

function object<T>(fields: Fields): Reader<T> {
  return (value, path, problems) => readObject(value, path, problems, fields) as T | undefined;
}

const INPUT: Fields = { reference: text(300, { required: true }), mode };

const RESOURCES: Fields = {
  cpuMillis: integer(1, Number.MAX_SAFE_INTEGER, { int64: true }),
  memoryBytes: bytes,
  gpus: integer(0, 2 ** 31 - 1),
  gpuType: text(100),
};

const RETRIES: Fields = { maxRetries: integer(0, 10), backoff: duration };

/** Every field a job file may have: JobSpec's, then what SubmitJob takes beside it. */
const TOP_LEVEL: Fields = {
  name: text(128, { required: true }),
  image: text(512),
  command,
  env,
  resources: object<JobResourcesJson>(RESOURCES),
  replicas: integer(1, 2 ** 31 - 1),
  retries: object<RetryPolicyJson>(RETRIES),
  timeout: duration,
  inputs: list(input, 32),
  experimentId: text(64),
  experiment: text(500, { required: true }),
  priorityClass: text(63),
  queue: text(63, { required: true }),
  requestId: text(128, { required: true }),
};
