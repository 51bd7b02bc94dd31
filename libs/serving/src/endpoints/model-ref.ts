import { excerpt, InvalidArgumentError } from '@trellis/platform';

/** A registry version named by number, or by an alias to resolve. */
export type ModelRef = { modelName: string; version: number; alias?: undefined } | { modelName: string; alias: string; version?: undefined };

const BY_NUMBER = /^models:\/([^/]+)\/([0-9]+)$/;
const BY_ALIAS = /^models:\/([^/]+)@([^/@]+)$/;

/** The model and version or alias `models:/<name>/<version>` or `models:/<name>@<alias>` names; INVALID_ARGUMENT naming `field` for anything else. */
export function parseModelRef(text: string, field = 'model'): ModelRef {
  const byNumber = BY_NUMBER.exec(text);
  if (byNumber) {
    const version = Number(byNumber[2]);
    if (!Number.isSafeInteger(version) || version < 1) throw new InvalidArgumentError(`"${excerpt(text)}" names version ${excerpt(byNumber[2])}; versions count from 1`, field);
    return { modelName: byNumber[1], version };
  }
  const byAlias = BY_ALIAS.exec(text);
  if (byAlias) return { modelName: byAlias[1], alias: byAlias[2] };
  throw new InvalidArgumentError(`"${excerpt(text)}" is not models:/<name>/<version> or models:/<name>@<alias>`, field);
}
