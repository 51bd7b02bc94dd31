// onnxruntime-node checks a tensor's data with instanceof against the process's typed-array classes,
// and jest's vm context has classes of its own: the spec's context shares the process's instead.
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = ['ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Float32Array', 'Float64Array', 'Int8Array', 'Int16Array', 'Int32Array', 'Uint8Array', 'Uint8ClampedArray', 'Uint16Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array'];

module.exports = class TypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
};
