/** An input as the job finds it: the dataset's name and the folder its files are in. */
export interface PlacedInput {
  datasetName: string;
  dir: string;
}

/**
 * The variables that tell a job where its inputs are: `TRELLIS_DATASET_DIRS`, a JSON map from each
 * input's key to its folder, and `TRELLIS_DATASET_<KEY>_DIR` per input, the key upper-cased with
 * every other character than a letter or digit as `_`. The key is the dataset's name; an input
 * whose name (or variable) an earlier one took gets `<name>#<index>` (its place in `spec.inputs`).
 */
export function datasetEnv(inputs: readonly PlacedInput[]): Record<string, string> {
  if (inputs.length === 0) return {};
  const dirs: Record<string, string> = {};
  const env: Record<string, string> = {};
  const variable = (key: string) => `TRELLIS_DATASET_${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_DIR`;
  inputs.forEach(({ datasetName, dir }, index) => {
    const key = datasetName in dirs || variable(datasetName) in env ? `${datasetName}#${index}` : datasetName;
    dirs[key] = dir;
    env[variable(key)] = dir;
  });
  return { ...env, TRELLIS_DATASET_DIRS: JSON.stringify(dirs) };
}
