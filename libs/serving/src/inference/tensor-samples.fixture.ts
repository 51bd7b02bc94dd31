import type { TensorDatatype } from '@trellis/plugin-sdk';

/** Three elements of each datatype, with their raw little-endian bytes written out by hand. */
export const SAMPLES: Record<TensorDatatype, { data: unknown[]; raw: number[] }> = {
  BOOL: { data: [true, false, true], raw: [1, 0, 1] },
  UINT8: { data: [0, 7, 255], raw: [0, 7, 255] },
  UINT16: { data: [0, 513, 65535], raw: [0, 0, 1, 2, 255, 255] },
  UINT32: { data: [1, 70000, 4294967295], raw: [1, 0, 0, 0, 0x70, 0x11, 1, 0, 255, 255, 255, 255] },
  UINT64: { data: [0n, 1n << 40n, 2n ** 64n - 1n], raw: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, ...Array(8).fill(255)] },
  INT8: { data: [-128, 0, 127], raw: [0x80, 0, 0x7f] },
  INT16: { data: [-32768, 258, 32767], raw: [0, 0x80, 2, 1, 0xff, 0x7f] },
  INT32: { data: [-1, 5, 2147483647], raw: [255, 255, 255, 255, 5, 0, 0, 0, 255, 255, 255, 0x7f] },
  INT64: { data: [-(2n ** 63n), 5n, -1n], raw: [0, 0, 0, 0, 0, 0, 0, 0x80, 5, 0, 0, 0, 0, 0, 0, 0, ...Array(8).fill(255)] },
  FP16: { data: [0x3c00, 0xc000, 0x7bff], raw: [0, 0x3c, 0, 0xc0, 0xff, 0x7b] },
  FP32: { data: [1.5, -0.25, 0], raw: [0, 0, 0xc0, 0x3f, 0, 0, 0x80, 0xbe, 0, 0, 0, 0] },
  FP64: { data: [1, -2, 0.5], raw: [0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f] },
  BYTES: { data: ['a', '', 'hé'], raw: [1, 0, 0, 0, 0x61, 0, 0, 0, 0, 3, 0, 0, 0, 0x68, 0xc3, 0xa9] },
};
