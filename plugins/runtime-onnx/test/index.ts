// What other projects' specs take from runtime-onnx: the plugin built as serving loads it, and the churn model.
export { buildForWorker } from './build-for-worker';
export { CHURN_FEATURES, churnModel } from './churn-model';
