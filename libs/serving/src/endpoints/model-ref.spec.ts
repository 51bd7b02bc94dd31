import { parseModelRef } from './model-ref';

describe('model references', () => {
  it('reads a version by number and by alias', () => {
    expect(parseModelRef('models:/churn/3')).toEqual({ modelName: 'churn', version: 3 });
    expect(parseModelRef('models:/churn@champion')).toEqual({ modelName: 'churn', alias: 'champion' });
  });

  it.each(['churn', 'models:/churn', 'models:/churn/0', 'models:/churn/latest', 'models:/a/b/3', 'runs:/abc/model', 'models:/churn@'])('refuses %s, naming the field', (text) => {
    expect(() => parseModelRef(text, 'model')).toThrow(/^model: /);
  });
});
