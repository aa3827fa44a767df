// ESLint: correctness rules, and the project's layout as import rules (one place, checked by
// `npm test`). Formatting is Prettier's job (.prettierrc.json), not ESLint's.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

/** The layout, as import rules: who may import what. */
const ELECTRON = {
  group: ['electron', 'electron/*'],
  message:
    'Only the Electron shell (src/main/index.ts) and the preload import electron: services take their dependencies as arguments and run under plain Node.',
};
const NODE_HID = {
  group: ['node-hid'],
  message: 'node-hid is loaded only by src/main/scanners/hid.ts; everything else uses its HidBackend interface.',
};
const SIMULATORS = {
  group: ['**/simulators/*', '**/simulators'],
  message: 'Upstream simulators are for tests and the demo host (src/main/host.ts); app code never imports them.',
};
const MAIN = { group: ['**/main/*', '**/main'], message: 'Only main-process code imports src/main.' };
const RENDERER = { group: ['**/renderer/*', '**/renderer'], message: 'Nothing outside the renderer imports it.' };
const NODE_BUILTINS = {
  group: ['node:*', 'fs', 'path', 'os', 'child_process', 'crypto', 'http', 'net'],
  message: 'The renderer and the shared contract run in the browser: no Node built-ins.',
};
/**
 * One exception: src/main/auth/passwords.ts (node:crypto's scrypt, nothing of the station), so a
 * person the hub adds (npm run hub -- add-user) gets the very hash format every station verifies.
 */
const STATION_CODE = {
  regex: '(^|/)main(/(?!auth/passwords$).*)?$',
  message: 'The site hub runs without the station: it shares only src/shared (contracts) and src/main/auth/passwords.ts with it.',
};
const CLIENT_CODE = {
  group: ['**/main/*', '**/main'],
  message: 'A simulator must not share code with the client it tests: write it from the upstream’s contract.',
};

const restrict = (...patterns) => ['error', { patterns }];
/** The same rules for import() and require(), which no-restricted-imports does not see. */
const DYNAMIC = [
  'error',
  {
    selector: 'ImportExpression[source.value=/^(electron|node-hid)(\\/.*)?$/]',
    message: 'electron and node-hid are loaded only by the Electron shell, the preload and src/main/scanners/hid.ts.',
  },
  {
    selector: "CallExpression[callee.name='require'][arguments.0.value=/^(electron|node-hid)(\\/.*)?$/]",
    message: 'electron and node-hid are loaded only by the Electron shell, the preload and src/main/scanners/hid.ts.',
  },
];

export default tseslint.config(
  {
    ignores: [
      'out/**',
      'dist/**',
      'node_modules/**',
      'reports/**',
      'screenshots/**',
      'bench/results/**',
      'test-results/**',
      'playwright-report/**',
      'tests/independent/odata-cap/node_modules/**',
      'src/main/db/migrations/**',
      'src/hub/migrations/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname, extraFileExtensions: ['.svelte'] },
    },
    rules: {
      // An unhandled promise is a scan that silently never happened.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-restricted-imports': restrict(ELECTRON, NODE_HID, SIMULATORS, RENDERER),
      'no-restricted-syntax': DYNAMIC,
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { globals: { ...globals.browser }, parserOptions: { parser: tseslint.parser, svelteConfig } },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  { files: ['**/*.cjs'], languageOptions: { globals: { ...globals.commonjs } }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // src/main: the Electron shell is the one place electron is imported; node-hid only in the HID binding.
  { files: ['src/main/index.ts'], rules: { 'no-restricted-imports': restrict(NODE_HID, SIMULATORS, RENDERER), 'no-restricted-syntax': 'off' } },
  {
    files: ['src/main/scanners/hid.ts'],
    rules: { 'no-restricted-imports': restrict(ELECTRON, SIMULATORS, RENDERER), 'no-restricted-syntax': 'off' },
  },
  { files: ['src/main/host.ts'], rules: { 'no-restricted-imports': restrict(ELECTRON, NODE_HID, RENDERER) } },
  // src/shared: imported by all three processes, so it imports none of them and no Node built-in.
  { files: ['src/shared/**'], rules: { 'no-restricted-imports': restrict(ELECTRON, NODE_HID, SIMULATORS, MAIN, RENDERER, NODE_BUILTINS) } },
  // The renderer talks to main only through the preload's API (or the WebSocket host).
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-restricted-imports': restrict(ELECTRON, NODE_HID, SIMULATORS, MAIN, NODE_BUILTINS) },
  },
  { files: ['src/preload/**'], rules: { 'no-restricted-imports': restrict(NODE_HID, SIMULATORS, MAIN, RENDERER), 'no-restricted-syntax': 'off' } },
  { files: ['src/hub/**'], rules: { 'no-restricted-imports': restrict(ELECTRON, NODE_HID, SIMULATORS, STATION_CODE, RENDERER) } },
  { files: ['src/simulators/**'], rules: { 'no-restricted-imports': restrict(ELECTRON, NODE_HID, CLIENT_CODE, RENDERER) } },
  // Tests and benchmarks may reach anything, simulators included.
  { files: ['tests/**', 'bench/**'], rules: { 'no-restricted-imports': restrict(ELECTRON) } },
  // npm start looks for the Electron binary before it falls back to the browser host.
  { files: ['scripts/**'], rules: { 'no-restricted-imports': 'off', 'no-restricted-syntax': 'off' } },
);
