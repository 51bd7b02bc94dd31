import { checkLength, checkNoControlCharacters, checkNoNul, checkRequired } from '@trellis/platform';
import { TRACKING_LIMITS } from '../common/tracking-limits';

/** A dataset input as a client logs it. */
export interface NewDatasetInput {
  dataset: { name: string; digest: string; sourceType: string; source: string; schema: string; profile: string };
  tags: Array<{ key: string; value: string }>;
}

/**
 * Checks a dataset input against MLflow's limits, naming the field (`datasets[0].dataset.digest`):
 * no control character in the name or a tag key, no NUL in any other text.
 */
export function checkDatasetInput(input: NewDatasetInput, field: string): void {
  const { dataset } = input;
  checkRequired(dataset.name, `${field}.dataset.name`);
  checkRequired(dataset.digest, `${field}.dataset.digest`);
  checkRequired(dataset.sourceType, `${field}.dataset.source_type`);
  checkRequired(dataset.source, `${field}.dataset.source`);
  checkLength(dataset.name, TRACKING_LIMITS.datasetNameLength, `${field}.dataset.name`);
  checkLength(dataset.digest, TRACKING_LIMITS.datasetDigestLength, `${field}.dataset.digest`);
  checkLength(dataset.sourceType, 64, `${field}.dataset.source_type`);
  checkLength(dataset.source, TRACKING_LIMITS.datasetSourceLength, `${field}.dataset.source`);
  checkLength(dataset.schema, TRACKING_LIMITS.datasetSchemaLength, `${field}.dataset.schema`);
  checkLength(dataset.profile, TRACKING_LIMITS.datasetProfileLength, `${field}.dataset.profile`);
  checkNoControlCharacters(dataset.name, `${field}.dataset.name`);
  const texts = { digest: dataset.digest, source_type: dataset.sourceType, source: dataset.source, schema: dataset.schema, profile: dataset.profile };
  for (const [name, text] of Object.entries(texts)) checkNoNul(text, `${field}.dataset.${name}`);
  input.tags.forEach((tag, index) => {
    checkRequired(tag.key, `${field}.tags[${index}].key`);
    checkLength(tag.key, TRACKING_LIMITS.inputTagKeyLength, `${field}.tags[${index}].key`);
    checkLength(tag.value, TRACKING_LIMITS.inputTagValueLength, `${field}.tags[${index}].value`);
    checkNoControlCharacters(tag.key, `${field}.tags[${index}].key`);
    checkNoNul(tag.value, `${field}.tags[${index}].value`);
  });
}
