import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/gen/**', 'tmp', '.nx', '.trellis'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:proto', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:plugin-sdk', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:platform', onlyDependOnLibsWithTags: ['scope:proto', 'scope:plugin-sdk'] },
            { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['scope:proto', 'scope:plugin-sdk', 'scope:platform'] },
            {
              sourceTag: 'type:service',
              onlyDependOnLibsWithTags: ['scope:proto', 'scope:plugin-sdk', 'scope:platform', 'scope:testing'],
            },
            { sourceTag: 'type:plugin', onlyDependOnLibsWithTags: ['scope:plugin-sdk'] },
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: ['scope:proto', 'scope:plugin-sdk', 'scope:platform', 'type:service', 'type:plugin'],
            },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
];
