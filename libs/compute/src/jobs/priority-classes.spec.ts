import { parsePriorityClasses } from './priority-classes';

describe('priority classes from the config', () => {
  it('lists them highest first with the default marked', () => {
    expect(parsePriorityClasses('low=0, high=1000,normal=100', 'normal')).toEqual([
      { name: 'high', priority: 1000, isDefault: false },
      { name: 'normal', priority: 100, isDefault: true },
      { name: 'low', priority: 0, isDefault: false },
    ]);
  });

  it('refuses a default class the list does not name, naming both settings', () => {
    expect(() => parsePriorityClasses('low=0,high=10', 'normal')).toThrow('services.compute.defaultPriorityClass is "normal", which services.compute.priorityClasses (low=0,high=10) does not name');
  });
});
