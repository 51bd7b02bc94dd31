const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Fields every line has, or that the line shows in its own place rather than as `key=value`. */
const SHOWN_APART = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'service', 'edge', 'plugin', 'instance', 'err']);

/**
 * One pino JSON line as a line for a person at a terminal:
 * `20:10:52.844 INFO  [governance] database ready  database=trellis_governance engine=postgres`,
 * local time of day, the service (or edge, or plugin instance) in brackets, the other fields as
 * `key=value`, and an error's stack indented below. A line that is not JSON passes unchanged.
 */
export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'string' || typeof entry.time === 'number' ? timeOfDay(new Date(entry.time)) : '';
  const level = (LEVEL_NAMES[entry.level as number] ?? String(entry.level)).padEnd(5);
  const context = contextOf(entry);
  const fields = Object.entries(entry)
    .filter(([key]) => !SHOWN_APART.has(key))
    .map(([key, value]) => `${key}=${valueText(value)}`);
  const err = entry.err as { message?: unknown; stack?: unknown } | undefined;
  if (err?.message !== undefined) fields.push(`err=${valueText(err.message)}`);
  const head = [time, level, context ? `[${context}]` : '', String(entry.msg ?? '')].filter(Boolean).join(' ');
  const stack = typeof err?.stack === 'string' ? `\n${err.stack.replace(/^/gm, '    ')}` : '';
  return `${head}${fields.length ? `  ${fields.join(' ')}` : ''}${stack}\n`;
}

function contextOf(entry: Record<string, unknown>): string {
  if (typeof entry.plugin === 'string') return typeof entry.instance === 'string' ? `${entry.plugin}:${entry.instance}` : entry.plugin;
  const named = entry.service ?? entry.edge;
  return typeof named === 'string' ? named : '';
}

function valueText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

function timeOfDay(date: Date): string {
  if (Number.isNaN(date.getTime())) return '';
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}
