import nx from '@nx/eslint-plugin';

/**
 * Who may import whom (ARCHITECTURE.md section 2). Tests may also use @trellis/testing, which in
 * turn imports nothing of ours but proto, so it never closes a cycle; a service's tests may also
 * load the plugins the service runs with (monitoring's specs score with drift-stats and deliver
 * through notifier-webhook), which import only the plugin SDK, so no cycle closes there either.
 */
function boundaries({ tests }) {
  const testing = tests ? ['scope:testing'] : [];
  const plugins = tests ? ['type:plugin'] : [];
  return [
    'error',
    {
      enforceBuildableLibDependency: false,
      allow: [],
      depConstraints: [
        { sourceTag: 'scope:proto', onlyDependOnLibsWithTags: [] },
        { sourceTag: 'scope:plugin-sdk', onlyDependOnLibsWithTags: [] },
        { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['scope:proto', 'scope:client'] },
        { sourceTag: 'scope:client', onlyDependOnLibsWithTags: ['scope:proto'] },
        { sourceTag: 'scope:platform', onlyDependOnLibsWithTags: ['scope:proto', 'scope:plugin-sdk', ...testing] },
        { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['scope:proto', 'scope:plugin-sdk', 'scope:platform', ...testing, ...plugins] },
        { sourceTag: 'type:plugin', onlyDependOnLibsWithTags: ['scope:plugin-sdk', ...testing] },
        {
          sourceTag: 'type:app',
          onlyDependOnLibsWithTags: ['scope:proto', 'scope:plugin-sdk', 'scope:platform', 'scope:client', 'type:service', 'type:plugin', ...testing],
        },
        { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['*'] },
      ],
    },
  ];
}

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/gen/**', 'tmp', '.nx', '.trellis'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries({ tests: false }),
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts', '**/test-fixtures/**/*.ts', '**/e2e/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries({ tests: true }),
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Benchmarks measure the kit with its test-only service, which lives with the kit's tests.
    files: ['tools/bench/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
];
