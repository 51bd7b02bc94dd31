import type { DriftColumn, DriftColumnType, DriftDetector, DriftReference, DriftScore, DriftScoreOptions, DriftSummary, DriftSummaryForm } from '@trellis/plugin-sdk';
import { categoryCounts, finiteNumbers, summaryCounts, weighSummary } from './columns';
import type { DriftMethod, FitInput } from './methods/method';

/** A drift detector configured with one statistical method; its reference state is the method's, tagged with the method's name. */
export class StatDetector implements DriftDetector {
  readonly columnTypes: readonly DriftColumnType[];
  readonly summaries: readonly DriftSummaryForm[];
  readonly measures;
  readonly defaultThreshold: number;

  constructor(
    private readonly name: string,
    private readonly method: DriftMethod,
    threshold?: number,
  ) {
    this.columnTypes = method.columnTypes;
    this.summaries = method.summaries;
    this.measures = method.measures;
    this.defaultThreshold = this.threshold(threshold ?? method.defaultThreshold);
  }

  async fit(reference: DriftColumn | DriftSummary): Promise<DriftReference> {
    this.checkType(reference.type);
    return { type: reference.type, state: { method: this.name, fitted: this.method.fit(this.fitInput(reference)) } };
  }

  async score(reference: DriftReference, current: DriftColumn, options: DriftScoreOptions = {}): Promise<DriftScore> {
    this.checkType(current.type);
    if (reference.type !== current.type) throw new TypeError(`the reference was fitted on a ${reference.type} column; this window is ${current.type}`);
    const state = reference.state as { method?: string; fitted?: unknown } | undefined;
    if (state?.method !== this.name) throw new TypeError(`the reference was not fitted by a ${this.name} detector`);
    const threshold = this.threshold(options.threshold ?? this.defaultThreshold);
    const { statistic, value } = this.method.score(state.fitted, current);
    if (this.measures === 'p-value') return { measure: 'p-value', statistic, pValue: value, threshold, drifted: value < threshold };
    return { measure: 'distance', statistic, distance: value, threshold, drifted: value > threshold };
  }

  private fitInput(reference: DriftColumn | DriftSummary): FitInput {
    if (!('summary' in reference)) {
      return reference.type === 'numeric' ? { type: 'numeric', raw: finiteNumbers(reference, 'reference') } : { type: 'categorical', counts: categoryCounts(reference, 'reference') };
    }
    if (!this.summaries.includes(reference.summary)) throw new TypeError(`the ${this.name} detector fits from ${this.summaries.join(', ')} summaries, not ${JSON.stringify(reference.summary)}`);
    return reference.summary === 'categories' ? { type: 'categorical', counts: summaryCounts(reference) } : { type: 'numeric', spread: weighSummary(reference) };
  }

  private checkType(type: DriftColumnType): void {
    if (!this.columnTypes.includes(type)) throw new TypeError(`the ${this.name} detector handles ${this.columnTypes.join(' and ')} columns, not ${JSON.stringify(type)} ones`);
  }

  private threshold(given: number): number {
    if (this.measures === 'p-value' && !(given > 0 && given < 1)) throw new RangeError(`threshold is a p-value strictly between 0 and 1 for the ${this.name} detector, got ${given}`);
    if (this.measures === 'distance' && !(given >= 0 && Number.isFinite(given))) throw new RangeError(`threshold is a finite distance of 0 or more for the ${this.name} detector, got ${given}`);
    return given;
  }
}
