const REFERENCE = /^datasets:\/([^/@]+)(?:\/([1-9][0-9]{0,15})|@([^/@]+))$/;

/**
 * The Trellis dataset version a run's dataset input names, `datasets:/<name>/<n>` or
 * `datasets:/<name>@<tag>`: its source itself, or the `uri` (or `url`, `path`) of the JSON object
 * MLflow's dataset sources are, as the data service's lineage reads it. Undefined for any other source.
 */
export function datasetReferenceOf(source: string | undefined): string | undefined {
  const text = (source ?? '').trim();
  const candidates = [text];
  if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as Record<string, unknown>;
      for (const key of ['uri', 'url', 'path']) if (typeof json[key] === 'string') candidates.push((json[key] as string).trim());
    } catch {
      // Not JSON: only the source as a whole can be a reference.
    }
  }
  return candidates.find((candidate) => REFERENCE.test(candidate));
}
