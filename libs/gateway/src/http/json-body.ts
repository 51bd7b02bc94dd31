import { badRequest } from '../errors/gateway-error';

/**
 * How deep a request's JSON may nest (arrays and objects): several times what any Trellis or
 * MLflow message needs, and shallow enough for every recursive reader of the parsed value.
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * `text` parsed as JSON, or a 400 naming `what` (`the request body`) when it is not JSON or nests
 * deeper than MAX_JSON_DEPTH. JSON.parse copes with deep nesting, but what reads its result
 * (field readers, error messages, protobuf's fromJson) recurses, so the depth is checked first,
 * by a scan that does not.
 */
export function parseJson(text: string, what: string): unknown {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) throw badRequest(`${what} nests deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Whether brackets and braces outside strings open more than `limit` levels at some point of `text`. */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      index = closingQuote(text, index);
    } else if (code === OPEN_ARRAY || code === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (code === CLOSE_ARRAY || code === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/** The index of the quote that ends the string opened at `open` (one not escaped by an odd run of backslashes), or the end of `text`. */
function closingQuote(text: string, open: number): number {
  for (let quote = text.indexOf('"', open + 1); quote !== -1; quote = text.indexOf('"', quote + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
  return text.length;
}
