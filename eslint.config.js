// Lint for genwatch: ESLint's and typescript-eslint's recommended rules, eslint-plugin-vue's
// recommended rules for the components, and nothing about layout (Prettier owns that).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import vue from 'eslint-plugin-vue';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'dist-relay/', 'bench/dist/', 'node_modules/', 'test-results/', '.genwatch/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      // a name starting with _ is left unused on purpose (a field taken out of a spread)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // a test may define the small components it mounts
    files: ['tests/**'],
    rules: { 'vue/one-component-per-file': 'off' },
  },
  prettier,
);
