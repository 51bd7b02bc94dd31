import { basename, extname } from 'node:path';
import type { RevisionEntity } from '../endpoints/endpoint.entity';

/**
 * The format a revision's model is loaded as: its version's, or, where the version names none (one
 * registered through MLflow's model-versions/create, which has no format), the extension of the
 * file to load (model.onnx: onnx) when the runtime instance loads that format. Otherwise throws,
 * saying how to register the version so that it loads.
 */
export function formatToLoad(revision: Pick<RevisionEntity, 'modelFormat' | 'runtime'>, path: string, formats: readonly string[]): string {
  if (revision.modelFormat) return revision.modelFormat;
  const extension = extname(path).slice(1);
  if (formats.includes(extension)) return extension;
  const found = extension ? `its file ${basename(path)} is not named for a format` : 'no single file of it is named for a format';
  const [example] = formats;
  throw new Error(
    `the version names no format, and ${found} runtime instance ${revision.runtime} loads (${formats.join(', ')}): ` +
      `register the version with its format (the registry's CreateVersion with format "${example}"), or name its model file model.<format> (model.${example})`,
  );
}
