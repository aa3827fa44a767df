import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The layout lives in eslint.config.js as import rules (run by `npm test`); this proves each rule
 * fires where it should and stays quiet where the import is allowed. Type-aware rules are off
 * here: the snippets are not files of the project.
 */
const eslint = new ESLint({
  cwd: new URL('../..', import.meta.url).pathname,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false, project: null } },
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off' },
  },
});

async function layoutErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

const CASES: [string, string, boolean][] = [
  // file, import line, allowed?
  ['src/main/index.ts', "import { app } from 'electron';", true],
  ['src/main/bags/dock-door.ts', "import { app } from 'electron';", false],
  ['src/main/upstreams/http.ts', "const e = await import('electron/main');", false],
  ['src/main/db/open.ts', "const { app } = require('electron');", false],
  ['src/main/scanners/service.ts', "const HID = await import('node-hid');", false],
  ['src/main/scanners/hid.ts', "const HID = await import('node-hid');", true],
  ['src/preload/index.ts', "import { contextBridge } from 'electron';", true],
  ['src/renderer/src/lib/client.ts', "import { ipcRenderer } from 'electron';", false],
  ['src/main/scanners/hid.ts', "import HID from 'node-hid';", true],
  ['src/main/scanners/service.ts', "import HID from 'node-hid';", false],
  ['src/main/host.ts', "import { startErpSimulator } from '../simulators/odata-erp';", true],
  ['src/main/app/station.ts', "import { startErpSimulator } from '../simulators/odata-erp';", false],
  ['src/shared/contract/bags.ts', "import { DockDoorService } from '../../main/bags/dock-door';", false],
  ['src/shared/contract/bags.ts', "import fs from 'node:fs';", false],
  ['src/shared/contract/bags.ts', "import { z } from 'zod';", true],
  ['src/renderer/src/lib/client.ts', "import { createStation } from '../../../main/app/station';", false],
  ['src/renderer/src/lib/client.ts', "import { contract } from '../../../shared/contract';", true],
  ['src/renderer/src/lib/client.ts', "import path from 'node:path';", false],
  ['src/simulators/odata-erp.ts', "import { odataString } from '../main/upstreams/erp/odata';", false],
  ['src/main/upstreams/erp/odata.ts', "import { Store } from '../../../renderer/src/lib/store';", false],
  ['src/hub/apply.ts', "import { enqueue } from '../main/outbox/enqueue';", false],
  ['src/hub/apply.ts', "import { HUB_OP_PAYLOADS } from '../shared/hub';", true],
  ['src/hub/server.ts', "import { startBagsSimulator } from '../simulators/bags-upstream';", false],
  ['tests/integration/erp.test.ts', "import { startErpSimulator } from '../../src/simulators/odata-erp';", true],
];

describe('layout rules (eslint.config.js)', () => {
  // The first lint loads the config, parser and plugins: about 1 s alone, over 13 s in a full
  // run on a loaded 2-core machine. Paid here, under its own limit, not by the first case's 20 s.
  beforeAll(() => eslint.lintText('export {};\n', { filePath: 'src/main/index.ts' }), 120_000);

  for (const [file, line, allowed] of CASES) {
    it(`${allowed ? 'allows' : 'refuses'} in ${file}: ${line}`, async () => {
      const errors = await layoutErrors(file, `${line}\nexport {};\n`);
      if (allowed) expect(errors).toEqual([]);
      else expect(errors.length).toBe(1);
    });
  }
});
