// ESLint flat config. Libs are reached only through their index (@wagw/<lib>); pure libs keep Nest in
// their one <lib>.module.ts; only libs/config reads process.env.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const pureLibs = ['whatsapp', 'call-state', 'contracts', 'media-bridge', 'sip', 'permissions'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-output/**', 'bench/results/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-process-env': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@wagw/*/*', '**/libs/*/src/*', '../../libs/**'], message: 'Import a lib through @wagw/<lib> (its index) only.' }] },
      ],
      'max-lines': ['error', { max: 600, skipBlankLines: false, skipComments: false }],
    },
  },
  {
    files: pureLibs.map((l) => `libs/${l}/src/**/*.ts`),
    ignores: pureLibs.map((l) => `libs/${l}/src/${l}.module.ts`),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*'], message: 'Pure libs keep Nest in their <lib>.module.ts only.' },
            { group: ['@wagw/*/*', '**/libs/*/src/*'], message: 'Import a lib through @wagw/<lib> (its index) only.' },
          ],
        },
      ],
    },
  },
  {
    // test setup and scripts may read the environment (they are not apps); specs may use console-free helpers
    files: ['test/support/**/*.ts', 'libs/testing/**/*.ts', '**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
    rules: { 'no-process-env': 'off', 'no-restricted-imports': 'off' },
  },
);
