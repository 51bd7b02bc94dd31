import 'reflect-metadata';
import { runUntilSignalled } from '@trellis/platform';
import runtimeOnnx from '@trellis/plugin-runtime-onnx';
import { servingService } from '@trellis/serving';

runUntilSignalled({ mode: 'distributed', services: [servingService], plugins: [runtimeOnnx] });
