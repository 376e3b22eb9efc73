// @ts-check
/**
 * Lint for the whole repository. Beyond typescript-eslint's recommended rules, the point of this
 * file is the process boundaries (STYLE.md §4): crossing one is an error, not a review comment.
 *
 *  - src-main/engine, src-main/cli, bin: never electron (they also run under plain Node).
 *  - src-renderer, src-preload/contract: no Node built-ins, no electron (the page is sandboxed and
 *    also runs in a plain browser under `studio serve`).
 *  - src-preload: never hands ipcRenderer to the page.
 */
import { builtinModules } from 'node:module';
import path from 'node:path';
import { defineConfig, globalIgnores, includeIgnoreFile } from 'eslint/config';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

/** Bare names of Node built-ins (`fs`, `fs/promises`, …); the `node:` forms are matched by prefix. */
const NODE_BUILTINS = builtinModules.filter((m) => !m.startsWith('_') && !m.startsWith('node:'));

const RENDERER_MESSAGE =
  'The renderer runs sandboxed (and in a plain browser under `studio serve`): reach the engine through the preload verbs (window.studio), never Node or Electron.';
const ENGINE_MESSAGE =
  'The engine also runs as the CLI and `studio serve` under plain Node: Electron glue belongs in src-main/app.';

/** esquery regexes cannot contain "/", so a path separator is written \x2F. */
const rendererForbiddenSpecifier = new RegExp(
  `^(?:node:|(?:electron|${NODE_BUILTINS.map((m) => m.replaceAll('/', '\\x2F')).join('|')})(?:$|\\x2F))`,
).source;

/** @param {string} specifierRegex @param {string} message */
const noDynamicImportOf = (specifierRegex, message) => [
  { selector: `ImportExpression[source.value=/${specifierRegex}/]`, message },
  { selector: `CallExpression[callee.name='require'][arguments.0.value=/${specifierRegex}/]`, message },
];

export const rendererBoundary = {
  'no-restricted-imports': [
    'error',
    {
      paths: [{ name: 'electron', message: RENDERER_MESSAGE }, ...NODE_BUILTINS.map((name) => ({ name, message: RENDERER_MESSAGE }))],
      patterns: [
        { regex: '^node:', message: RENDERER_MESSAGE },
        { regex: '^electron/', message: RENDERER_MESSAGE },
        { regex: '(?:^|/)src-main/', message: 'The renderer imports the contract (src-preload/contract), never main-process code.' },
      ],
    },
  ],
  'no-restricted-syntax': ['error', ...noDynamicImportOf(rendererForbiddenSpecifier, RENDERER_MESSAGE)],
};

export const engineBoundary = {
  'no-restricted-imports': [
    'error',
    {
      paths: [
        { name: 'electron', message: ENGINE_MESSAGE },
        { name: 'electron-store', message: ENGINE_MESSAGE },
      ],
      patterns: [
        { regex: '^electron/', message: ENGINE_MESSAGE },
        { regex: '^(?:\\.\\./)+app/', message: 'The engine never depends on the Electron glue in src-main/app.' },
      ],
    },
  ],
  'no-restricted-syntax': ['error', ...noDynamicImportOf('^electron(?:$|\\x2F|-store$)', ENGINE_MESSAGE)],
};

const PRELOAD_MESSAGE = 'The preload exposes named verbs only; ipcRenderer (send/on/invoke for any channel) never reaches the page.';

export const preloadBoundary = {
  'no-restricted-syntax': [
    'error',
    { selector: "ExportNamedDeclaration[source.value='electron']", message: PRELOAD_MESSAGE },
    { selector: "ExportAllDeclaration[source.value='electron']", message: PRELOAD_MESSAGE },
    { selector: "ExportSpecifier[local.name='ipcRenderer']", message: PRELOAD_MESSAGE },
    { selector: "ExportDefaultDeclaration Identifier[name='ipcRenderer']", message: PRELOAD_MESSAGE },
    { selector: "ExportNamedDeclaration > VariableDeclaration Identifier[name='ipcRenderer']", message: PRELOAD_MESSAGE },
    { selector: "CallExpression[callee.property.name=/^exposeIn/] Identifier[name='ipcRenderer']", message: PRELOAD_MESSAGE },
  ],
};

export default defineConfig(
  includeIgnoreFile(path.join(root, '.gitignore')),
  globalIgnores(['out/', 'dist/', 'coverage/', 'node_modules/', '**/*.d.ts']),

  {
    files: ['**/*.{js,mjs,cjs,ts,tsx}'],
    extends: [tseslint.configs.recommended],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports', disallowTypeAnnotations: false }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': 'error',
    },
  },

  // Type-aware rules where an unhandled promise is a silent failure: main, preload and engine code.
  {
    files: ['src-main/**/*.ts', 'src-preload/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },

  { files: ['src-main/engine/**/*.ts', 'src-main/cli/**/*.ts', 'bin/**/*.{js,mjs}'], rules: engineBoundary },
  { files: ['src-renderer/**/*.{ts,tsx}', 'src-preload/contract/**/*.ts'], rules: rendererBoundary },
  { files: ['src-preload/**/*.ts'], ignores: ['src-preload/contract/**'], rules: preloadBoundary },
);
