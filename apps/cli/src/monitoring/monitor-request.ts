import type { CreateMonitorRequestJson } from '@trellis/proto/trellis/monitoring/v1/monitoring_service_pb';
import type { ColumnDetectorJson, TensorColumnsJson } from '@trellis/proto/trellis/monitoring/v1/resources_pb';
import { CliError, EXIT } from '../exit-codes';
import { commaList, parseCount, parseDuration, parseNumber } from './arguments';

/** `trellis monitors create`'s options, as commander parses them. */
export interface CreateMonitorOptions {
  endpoint?: string;
  dataset?: string;
  datasetPath?: string;
  reference?: string;
  referencePath?: string;
  referenceRows?: string;
  windowRows?: string;
  window?: string;
  slide?: string;
  columns?: string;
  tensorColumns: string[];
  detector: string[];
  driftShare?: string;
  task?: 'classification' | 'regression';
  predictionTensor?: string;
  positiveClass?: string;
  decisionThreshold?: string;
  description?: string;
}

/**
 * The CreateMonitor request for `options`, refusing combinations the API would refuse (both or
 * neither of --endpoint and --dataset, two kinds of window or reference) with what to pass instead.
 * Ranges the service checks itself (window sizes, thresholds) it refuses naming the field.
 */
export function createMonitorRequest(projectId: string, name: string, options: CreateMonitorOptions): CreateMonitorRequestJson {
  if (Boolean(options.endpoint) === Boolean(options.dataset)) throw new CliError('give exactly one of --endpoint <name> (watch its predictions) and --dataset <name> (watch its new versions)', EXIT.usage);
  if (options.windowRows && options.window) throw new CliError('give one of --window-rows (a count window) and --window (a time window), not both', EXIT.usage);
  if (options.reference && options.referenceRows) throw new CliError('give one of --reference (a dataset version) and --reference-rows (the first logged rows), not both', EXIT.usage);
  if (options.referencePath && !options.reference) throw new CliError('--reference-path needs --reference datasets:/<name>/<version>', EXIT.usage);
  if (options.reference && !/^datasets:\/[^/]+\/[^/]+$/.test(options.reference)) throw new CliError(`--reference "${options.reference.slice(0, 60)}" must be datasets:/<name>/<version>`, EXIT.usage);
  if (options.slide && !options.windowRows && !options.window) throw new CliError('--slide needs --window-rows or --window', EXIT.usage);
  const performanceOnly = [options.predictionTensor, options.positiveClass, options.decisionThreshold].some((value) => value !== undefined);
  if (performanceOnly && !options.task) throw new CliError('--prediction-tensor, --positive-class and --decision-threshold need --task classification or regression', EXIT.usage);

  const request: CreateMonitorRequestJson = { projectId, name, description: options.description ?? '' };
  if (options.endpoint) request.endpoint = { endpointName: options.endpoint };
  if (options.dataset) request.dataset = { datasetName: options.dataset, path: options.datasetPath ?? '' };
  else if (options.datasetPath) throw new CliError('--dataset-path needs --dataset', EXIT.usage);
  if (options.reference) request.reference = { datasetVersion: { datasetUri: options.reference, path: options.referencePath ?? '' } };
  if (options.referenceRows) request.reference = { logWindow: { rows: String(parseCount(options.referenceRows, '--reference-rows', 1, 1_000_000)) } };
  if (options.windowRows) {
    request.window = { rows: String(parseCount(options.windowRows, '--window-rows', 1, 1_000_000)) };
    if (options.slide) request.window.slide = String(parseCount(options.slide, '--slide'));
  }
  if (options.window) {
    request.window = { durationSeconds: String(parseDuration(options.window, '--window')) };
    if (options.slide) request.window.slide = String(parseDuration(options.slide, '--slide'));
  }
  if (options.columns) request.columns = commaList(options.columns);
  request.tensorColumns = options.tensorColumns.map(tensorColumns);
  request.detectors = options.detector.map(columnDetector);
  if (options.driftShare) request.driftShare = parseNumber(options.driftShare, '--drift-share', { min: 0, max: 1, exclusiveMin: true });
  if (options.task) {
    request.performance = {
      task: options.task === 'classification' ? 'TASK_TYPE_CLASSIFICATION' : 'TASK_TYPE_REGRESSION',
      predictionTensor: options.predictionTensor ?? '',
      positiveClass: options.positiveClass ?? '',
      decisionThreshold: options.decisionThreshold ? parseNumber(options.decisionThreshold, '--decision-threshold', { min: 0, max: 1, exclusiveMin: true }) : 0,
    };
  }
  return request;
}

/** `x=age,plan,income`: the names of tensor x's columns. */
function tensorColumns(spec: string): TensorColumnsJson {
  const match = /^([^=]+)=(.+)$/.exec(spec);
  if (!match) throw new CliError(`--tensor-columns "${spec.slice(0, 60)}" must be <tensor>=<name>,<name>,... (x=age,plan,income)`, EXIT.usage);
  return { tensor: match[1].trim(), names: commaList(match[2]) };
}

/** `age=psi` or `age=psi:0.2`: column age scored by drift instance psi (with its threshold). */
function columnDetector(spec: string): ColumnDetectorJson {
  const match = /^([^=]+)=([^:]+)(?::(.+))?$/.exec(spec);
  if (!match) throw new CliError(`--detector "${spec.slice(0, 60)}" must be <column>=<detector>[:<threshold>] (age=psi:0.2)`, EXIT.usage);
  return { column: match[1].trim(), detector: match[2].trim(), threshold: match[3] ? parseNumber(match[3], `--detector ${match[1]}`, { min: 0 }) : 0 };
}
