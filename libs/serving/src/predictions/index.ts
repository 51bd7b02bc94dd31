export { PREDICTIONS_LOGGED, PredictionLog, sampled } from './prediction-log';
export { PredictionsModule } from './predictions.module';
