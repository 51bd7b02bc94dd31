import { formatToLoad } from './model-format';

const ONNX_ONLY = ['onnx'];

describe('the format a revision is loaded as', () => {
  it("is the version's own when it names one, whatever its file is called", () => {
    expect(formatToLoad({ modelFormat: 'onnx', runtime: 'onnx' }, '/cache/r1/weights.bin', ONNX_ONLY)).toBe('onnx');
  });

  it("is the model file's extension when the version names none (as MLflow's model-versions/create registers it)", () => {
    expect(formatToLoad({ modelFormat: '', runtime: 'onnx' }, '/cache/r1/model.onnx', ONNX_ONLY)).toBe('onnx');
  });

  it('refuses an extension the runtime does not load, naming the file and both ways to fix it', () => {
    expect(() => formatToLoad({ modelFormat: '', runtime: 'onnx' }, '/cache/r1/model.pkl', ONNX_ONLY)).toThrow(
      'the version names no format, and its file model.pkl is not named for a format runtime instance onnx loads (onnx): ' +
        `register the version with its format (the registry's CreateVersion with format "onnx"), or name its model file model.<format> (model.onnx)`,
    );
  });

  it('refuses a version of several files none of which is its model.<format>', () => {
    expect(() => formatToLoad({ modelFormat: '', runtime: 'onnx' }, '/cache/0b5d2c0e-revision', ONNX_ONLY)).toThrow(
      /^the version names no format, and no single file of it is named for a format runtime instance onnx loads \(onnx\): register the version with its format/,
    );
  });
});
