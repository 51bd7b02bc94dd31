const DURABLE_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * Whether `subject` matches `pattern` with NATS semantics: tokens are separated by `.`, `*` matches
 * exactly one token, and `>` (last token only) matches one or more remaining tokens.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  const wanted = pattern.split('.');
  const actual = subject.split('.');
  for (let i = 0; i < wanted.length; i++) {
    if (wanted[i] === '>') return actual.length > i;
    if (i >= actual.length) return false;
    if (wanted[i] !== '*' && wanted[i] !== actual[i]) return false;
  }
  return wanted.length === actual.length;
}

/**
 * Throws unless `subject` is a well-formed NATS subject: non-empty tokens without whitespace, and
 * wildcards (`*` as a whole token, `>` as the last token) only where `wildcards` allows them.
 */
export function checkSubject(subject: string, { wildcards }: { wildcards: boolean }): void {
  const tokens = subject.split('.');
  tokens.forEach((token, index) => {
    const wildcard = token === '*' || (token === '>' && index === tokens.length - 1);
    const bad =
      token === '' || /\s/.test(token) || (!wildcards && wildcard) || (!wildcard && (token.includes('*') || token.includes('>')));
    if (bad) {
      throw new Error(
        `"${subject}" is not a valid event subject${wildcards ? ' pattern' : ''}: ` +
          `dot-separated non-empty tokens${wildcards ? ', with * for one token and > for the rest' : ', without wildcards'}`,
      );
    }
  });
}

/** Throws unless `durable` can name a durable consumer (letters, digits, `-`, `_`). */
export function checkDurableName(durable: string): void {
  if (!DURABLE_NAME.test(durable)) {
    throw new Error(`durable name "${durable}" must be letters, digits, - and _ only`);
  }
}
