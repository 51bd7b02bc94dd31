/** Where the tracking pages of a project live, for links between them. */
export function trackingPaths(projectId: string) {
  const base = `/ui/p/${encodeURIComponent(projectId)}`;
  return {
    experiments: `${base}/experiments`,
    experiment: (experimentId: string) => `${base}/experiments/${encodeURIComponent(experimentId)}`,
    run: (runId: string) => `${base}/runs/${encodeURIComponent(runId)}`,
    compare: (runIds: readonly string[]) => `${base}/compare?runs=${runIds.map(encodeURIComponent).join(',')}`,
    dataset: (datasetId: string) => `${base}/datasets/${encodeURIComponent(datasetId)}`,
  };
}
