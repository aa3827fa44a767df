import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { expect, it } from 'vitest';

it('no tracked file holds a merge-conflict marker line', () => {
  const files = execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);
  const marked: string[] = [];
  for (const file of files) {
    if (!fs.existsSync(file) || fs.statSync(file).size > 2_000_000) continue;
    const text = fs.readFileSync(file, 'utf8');
    if (/^(<{7}|>{7}) /m.test(text) || /^={7}$/m.test(text)) marked.push(file);
  }
  expect(marked).toEqual([]);
});
