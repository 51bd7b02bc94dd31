/**
 * The vocabulary of MLflow's run search (mlflow/utils/search_utils.py `SearchUtils`, and
 * `RunInfo.get_searchable_attributes()`), in one place so the parser and the query builder agree.
 */

/** Entity that a comparison or an ordering refers to. */
export type SearchEntity = 'attribute' | 'metric' | 'param' | 'tag' | 'dataset';

/** A comparison operator, spelled as it appears in the AST (keywords in upper case). */
export type ComparisonOperator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

/** Entity prefixes MLflow accepts before the dot (case-sensitive, as in MLflow). */
export const ENTITY_PREFIXES: Readonly<Record<string, SearchEntity>> = {
  attributes: 'attribute',
  attribute: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  metrics: 'metric',
  metric: 'metric',
  params: 'param',
  param: 'param',
  parameters: 'param',
  parameter: 'param',
  tags: 'tag',
  tag: 'tag',
  datasets: 'dataset',
  dataset: 'dataset',
};

const NUMERIC: readonly ComparisonOperator[] = ['=', '!=', '<', '<=', '>', '>='];
const STRING: readonly ComparisonOperator[] = ['=', '!=', 'LIKE', 'ILIKE'];
const STRING_OR_LIST: readonly ComparisonOperator[] = [...STRING, 'IN', 'NOT IN'];

/** How one run attribute may be searched and ordered. */
export interface RunAttributeRule {
  /** The attribute the AST names; aliases are rewritten to it. */
  readonly key: string;
  readonly type: 'string' | 'number';
  readonly operators: readonly ComparisonOperator[];
  /** Whether `order_by` accepts this spelling. */
  readonly orderable: boolean;
  /** Whether a filter accepts this spelling; true unless set to false. */
  readonly filterable?: boolean;
}

/**
 * Every attribute spelling MLflow accepts, keyed by that spelling. `lifecycle_stage` and
 * `experiment_id` are not searchable in MLflow (the request's `run_view_type` and
 * `experiment_ids` cover them). MLflow lists IN/NOT IN for every string attribute but only
 * `run_id` accepts a list value, so only `run_id` gets them here.
 */
export const RUN_ATTRIBUTES: Readonly<Record<string, RunAttributeRule>> = {
  run_id: { key: 'run_id', type: 'string', operators: STRING_OR_LIST, orderable: true },
  run_name: { key: 'run_name', type: 'string', operators: STRING, orderable: true },
  'run name': { key: 'run_name', type: 'string', operators: STRING, orderable: false },
  'Run name': { key: 'run_name', type: 'string', operators: STRING, orderable: false },
  'Run Name': { key: 'run_name', type: 'string', operators: STRING, orderable: false },
  status: { key: 'status', type: 'string', operators: STRING, orderable: true },
  user_id: { key: 'user_id', type: 'string', operators: STRING, orderable: true },
  artifact_uri: { key: 'artifact_uri', type: 'string', operators: STRING, orderable: true },
  start_time: { key: 'start_time', type: 'number', operators: NUMERIC, orderable: true },
  end_time: { key: 'end_time', type: 'number', operators: NUMERIC, orderable: true },
  created: { key: 'start_time', type: 'number', operators: NUMERIC, orderable: true },
  Created: { key: 'start_time', type: 'number', operators: NUMERIC, orderable: true },
};

/** Operators per entity other than attributes (whose operators depend on the key). */
export const ENTITY_OPERATORS: Readonly<Record<Exclude<SearchEntity, 'attribute'>, readonly ComparisonOperator[]>> = {
  metric: NUMERIC,
  param: STRING,
  tag: STRING,
  dataset: STRING_OR_LIST,
};

/** Keys a `datasets.` comparison may name. */
export const DATASET_KEYS: readonly string[] = ['name', 'digest', 'context'];

/**
 * What one search grammar (runs or experiments) accepts, so that the scanner and the parsers
 * serve both: entity prefixes, attribute spellings, what order_by may name, and the example an
 * error message offers for an identifier.
 */
export interface SearchVocabulary {
  readonly prefixes: Readonly<Record<string, SearchEntity>>;
  readonly attributes: Readonly<Record<string, RunAttributeRule>>;
  readonly orderableEntities: readonly SearchEntity[];
  /** How an order_by error lists the orderable entities (`attributes, metrics, params or tags`). */
  readonly orderableList: string;
  readonly exampleIdentifier: string;
}

/** The run search grammar of `runs/search`. */
export const RUN_VOCABULARY: SearchVocabulary = {
  prefixes: ENTITY_PREFIXES,
  attributes: RUN_ATTRIBUTES,
  orderableEntities: ['attribute', 'metric', 'param', 'tag'],
  orderableList: 'attributes, metrics, params or tags',
  exampleIdentifier: 'metrics.acc',
};

/**
 * The experiment search grammar of `experiments/search` (MLflow's `SearchExperimentsUtils`):
 * attributes `name` and the two times, and tags; order_by on attributes only, `experiment_id`
 * among them although no filter may name it.
 */
export const EXPERIMENT_VOCABULARY: SearchVocabulary = {
  prefixes: { attributes: 'attribute', attribute: 'attribute', attr: 'attribute', tags: 'tag', tag: 'tag' },
  attributes: {
    name: { key: 'name', type: 'string', operators: STRING, orderable: true },
    creation_time: { key: 'creation_time', type: 'number', operators: NUMERIC, orderable: true },
    last_update_time: { key: 'last_update_time', type: 'number', operators: NUMERIC, orderable: true },
    experiment_id: { key: 'experiment_id', type: 'number', operators: NUMERIC, orderable: true, filterable: false },
  },
  orderableEntities: ['attribute'],
  orderableList: 'attributes',
  exampleIdentifier: 'tags.team',
};
