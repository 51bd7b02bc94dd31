import { formatBytes as bytesText } from '@trellis/client';

/** A timestamp (RFC 3339 or milliseconds) as people read it, in their time zone. */
export function formatTime(value: string | number | undefined): string {
  if (value === undefined || value === '' || value === 0) return '';
  const date = new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

/** A number with at most 4 significant digits after the point, or as it is when not finite. */
export function formatNumber(value: number | string | undefined): string {
  if (value === undefined || value === '') return '';
  const number = typeof value === 'string' ? Number(value) : value;
  if (!Number.isFinite(number)) return String(value);
  if (Number.isInteger(number)) return number.toLocaleString();
  return Math.abs(number) >= 1e-3 && Math.abs(number) < 1e6 ? Number(number.toPrecision(5)).toString() : number.toExponential(3);
}

/** Bytes (a number, or an int64 as the JSON API writes it) as people read them, as the CLI does. */
export function formatBytes(value: number | string | undefined): string {
  return bytesText(Number(value ?? 0));
}

/** An enum value's name without its type prefix: JOB_STATE_RUNNING -> running. */
export function enumLabel(value: string | undefined, prefix: string): string {
  if (!value) return '';
  return value.startsWith(prefix) ? value.slice(prefix.length).toLowerCase().replace(/_/g, ' ') : value;
}
