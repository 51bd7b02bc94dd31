import { runtimeOnnxPlugin } from './runtime-onnx.plugin';

export { ONNX_FORMAT, type OnnxLoadedModel, OnnxModelRuntime, type OnnxRuntimeOptions } from './onnx-runtime';
export { runtimeOnnxConfig } from './runtime-onnx.plugin';
// The default export is the plugin: serving's worker imports this module by path and takes it.
export default runtimeOnnxPlugin;
