// ESLint flat config (`npm run lint` runs it, then `prettier --check .`).
// - TypeScript (src/, test/): typescript-eslint's type-aware recommended rules (recommendedTypeChecked).
// - Plain JavaScript (bin/, scripts/, the config files): ESLint's recommended rules, Node globals.
// - Formatting is Prettier's: eslint-config-prettier turns off the rules that would fight it, and `max-len` is
//   turned back on after it, at 160 with no exemptions, since the rule of the project is "no line over 160
//   characters" and Prettier does not split strings, comments or template literals.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/results/', 'test/fixtures/'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },

  js.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
  },

  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      // tsconfig.test.json, not the project service: the service would give test/ files the root tsconfig.json,
      // which includes src/ only. tsconfig.test.json (src/ and test/) is also what `npm run build` checks.
      parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Unused names are errors; a leading `_` marks one that is unused on purpose (a parameter a signature needs).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // Off: `async` without `await` is how a function meets a Promise-returning interface (KubeApi fakes, file
      // readers), and it turns a throw into a rejection, which dropping `async` would not. A missing `await` is
      // what matters, and no-floating-promises, no-misused-promises and await-thenable (all on) catch it.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The simulators take AWS, GitHub and Kubernetes requests as untyped JSON (`Record<string, unknown>`) and
    // String() a field on purpose, as the real service reads it; the rule's `[object Object]` worry is about
    // typed values and cannot be met there without casts that claim a type the wire does not promise.
    files: ['test/sim/**/*.ts'],
    rules: { '@typescript-eslint/no-base-to-string': 'off' },
  },

  prettier,
  {
    rules: {
      'max-len': ['error', { code: 160, tabWidth: 2 }],
    },
  },
);
