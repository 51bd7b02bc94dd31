import { MlflowFields, keyValuesOf, readArray, readDouble, readInt64, readObject, readString } from './mlflow-fields';

const API_DOCS = ' See the API docs for more information about request parameters.';

describe('MLflow request fields', () => {
  it('reads int64 fields sent as JSON numbers or decimal strings, and refuses fractions naming the field', () => {
    expect(readInt64(1_700_000_000_000, 'timestamp')).toBe(1_700_000_000_000n);
    expect(readInt64('-42', 'step')).toBe(-42n);
    expect(readInt64(undefined, 'step')).toBeUndefined();
    expect(() => readInt64(1.5, 'metrics[2].step')).toThrow("Invalid value 1.5 for parameter 'metrics[2].step' supplied:  Hint: Value was of type 'float'." + API_DOCS);
  });

  it("words a mistyped field as MLflow's handlers do: the value as Python's JSON, and its Python type", () => {
    expect(() => readInt64('foo', 'step')).toThrow(`Invalid value "foo" for parameter 'step' supplied:  Hint: Value was of type 'str'.${API_DOCS}`);
    expect(() => readString(12, 'artifact_location')).toThrow(`Invalid value 12 for parameter 'artifact_location' supplied:  Hint: Value was of type 'int'.${API_DOCS}`);
    expect(() => readArray({ b: 1, a: ['é'] }, 'tags')).toThrow(`Invalid value {"a":["\\u00e9"],"b":1} for parameter 'tags' supplied:  Hint: Value was of type 'dict'.`);
    expect(() => readObject([true, null], 'dataset')).toThrow(`Invalid value [true,null] for parameter 'dataset' supplied:  Hint: Value was of type 'list'.`);
    expect(() => MlflowFields.fromJson({ max_results: 123456789 }).count('max_results', 50_000)).toThrow(
      `Invalid value 123456789 for parameter 'max_results' supplied:  Hint: Value was of type 'int'.${API_DOCS}`,
    );
  });

  it('echoes only the first 100 characters of a long mistyped value', () => {
    expect(() => readInt64('9'.repeat(300), 'step')).toThrow(`Invalid value "${'9'.repeat(99)}... for parameter 'step'`);
  });

  it('refuses integers beyond 64 bits as a bad parameter, not a server error', () => {
    expect(readInt64('-9223372036854775808', 'step')).toBe(-(2n ** 63n));
    expect(() => readInt64('99999999999999999999999', 'timestamp')).toThrow(`Invalid value "99999999999999999999999" for parameter 'timestamp'`);
    expect(() => readInt64(1e30, 'timestamp')).toThrow("Invalid value 1e+30 for parameter 'timestamp'");
  });

  it('reads doubles as numbers, numeric strings and the protobuf JSON names of NaN and the infinities; refuses booleans', () => {
    expect(readDouble(0.25, 'value')).toBe(0.25);
    expect(readDouble('1e-3', 'value')).toBe(0.001);
    expect(readDouble('NaN', 'value')).toBeNaN();
    expect(readDouble('Infinity', 'value')).toBe(Infinity);
    expect(readDouble('-Infinity', 'value')).toBe(-Infinity);
    expect(() => readDouble(true, 'value')).toThrow("parameter 'value'");
    expect(() => readDouble('fast', 'value')).toThrow(`Invalid value "fast" for parameter 'value' supplied:  Hint: Value was of type 'str'.`);
  });

  it("reads a GET's fields from the query string, repeated keys as lists and numbers from text", () => {
    const fields = MlflowFields.fromQuery(new URLSearchParams('run_ids=a&run_ids=b&metric_key=loss&max_results=50&start_step=3'));
    expect(fields.strings('run_ids')).toEqual(['a', 'b']);
    expect(fields.requiredString('metric_key')).toBe('loss');
    expect(fields.count('max_results')).toBe(50);
    expect(fields.int64('start_step')).toBe(3n);
    expect(fields.strings('order_by')).toEqual([]);
  });

  it('takes run_uuid when run_id is absent, as older clients send it, and names run_id when both are', () => {
    expect(MlflowFields.fromJson({ run_uuid: 'abc' }).runId()).toBe('abc');
    expect(MlflowFields.fromJson({ run_id: 'def', run_uuid: 'abc' }).runId()).toBe('def');
    expect(() => MlflowFields.fromJson({}).runId()).toThrow("Missing value for required parameter 'run_id'");
  });

  it('ignores fields it does not know, and refuses a body that is not an object', () => {
    expect(MlflowFields.fromJson({ name: 'x', workspace: 'w', model_id: 'm' }).requiredString('name')).toBe('x');
    expect(() => MlflowFields.fromJson([1, 2])).toThrow("parameter 'the request body'");
  });

  it('reads tags and params, the param value required and the tag value defaulting to empty', () => {
    expect(keyValuesOf([{ key: 'a' }], 'tags')).toEqual([{ key: 'a', value: '' }]);
    expect(() => keyValuesOf([{ key: 'a', value: '1' }, { key: 'b' }], 'params', true)).toThrow("Missing value for required parameter 'params[1].value'");
    expect(() => keyValuesOf([{ value: '1' }], 'tags')).toThrow("'tags[0].key'");
  });
});
