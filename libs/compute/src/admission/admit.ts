import type { AdmissionDecisions, AdmissionSnapshot } from './admission.types';

/** One admission pass: which pending jobs to admit, which admitted jobs to preempt, why the rest wait. */
export function admit(snapshot: AdmissionSnapshot): AdmissionDecisions {
  throw new Error(`admission is not implemented yet (${snapshot.pending.length} pending)`);
}
