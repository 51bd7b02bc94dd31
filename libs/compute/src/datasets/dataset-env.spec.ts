import { datasetEnv } from './dataset-env';

describe('datasetEnv', () => {
  it("names each input's folder after its dataset, and lists them all in TRELLIS_DATASET_DIRS", () => {
    expect(datasetEnv([{ datasetName: 'churn-2024', dir: '/cache/a/1' }])).toEqual({
      TRELLIS_DATASET_CHURN_2024_DIR: '/cache/a/1',
      TRELLIS_DATASET_DIRS: JSON.stringify({ 'churn-2024': '/cache/a/1' }),
    });
  });

  it('keys an input whose name or variable an earlier one took by its place', () => {
    const env = datasetEnv([
      { datasetName: 'churn', dir: '/one' },
      { datasetName: 'churn', dir: '/two' },
      { datasetName: 'a-b', dir: '/three' },
      { datasetName: 'a_b', dir: '/four' },
    ]);
    expect(JSON.parse(env.TRELLIS_DATASET_DIRS)).toEqual({ churn: '/one', 'churn#1': '/two', 'a-b': '/three', 'a_b#3': '/four' });
    expect(env).toMatchObject({ TRELLIS_DATASET_CHURN_DIR: '/one', TRELLIS_DATASET_CHURN_1_DIR: '/two', TRELLIS_DATASET_A_B_DIR: '/three', TRELLIS_DATASET_A_B_3_DIR: '/four' });
  });

  it('adds nothing for a job without inputs', () => {
    expect(datasetEnv([])).toEqual({});
  });
});
