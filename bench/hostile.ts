/**
 * The sheet reader (src/main/imports/sheets) against hostile and large files. Generates them in a
 * temp folder — zip bombs, gigabyte cells, 100,000 zip entries, random bytes, a 50 MB line, a
 * 1,000,000-row workbook (written by exceljs) and CSV, and the odd-but-genuine files people send —
 * then reads each in a process of its own (bench/hostile-run.ts): inspectFile, then readRows over
 * every sheet. Prints a table (file, size, outcome, that process's peak RSS) and a last line of
 * key=value figures; exceljs reads the same 1M workbook in the same run as the baseline.
 *
 *   npx tsx bench/hostile.ts   → … files=… crashes=… max_peak_rss_mb=… rows_1m_xlsx_per_s=… exceljs_rows_per_s=… …
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { Outcome } from './hostile-run';
import { inlineRows, oleFile, repeated, sheetPart, storedZip, workbookParts, writeZip, type Parts } from '../tests/support/workbooks';

const GiB = 1 << 30;
const MiB = 1 << 20;
const ROWS_1M = 1_000_000;
const parent = (i: number) => `SB${String(Math.floor(i / 30)).padStart(5, '0')}`;
const child = (i: number) => `C${String(i).padStart(9, '0')}`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-bench-hostile-'));
const at = (name: string) => path.join(dir, name);

async function writeStream(file: string, chunks: Iterable<string | Buffer>): Promise<void> {
  const out = fs.createWriteStream(file);
  for (const chunk of chunks) if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  out.end();
  await new Promise<void>((r) => out.once('close', () => r()));
}

function* bagLines(rows: number, separator: string): Generator<string> {
  let chunk = `Parent Bag${separator}Child Bag\r\n`;
  for (let i = 0; i < rows; i++) {
    chunk += `${parent(i)}${separator}${child(i)}\r\n`;
    if (chunk.length > MiB) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}

/** A workbook whose one sheet holds `data` (a generator of `<sheetData>` content). */
const oneSheet = (data: Parts[string], extra: Partial<Parameters<typeof workbookParts>[0]> = {}) =>
  workbookParts({ sheets: [{ name: 'Bags', data }], ...extra });

/** A workbook whose cell A1 holds `text` as an inline string, then the rows in `after`. */
function inlineCellSheet(text: Iterable<string>, after = ''): Parts {
  return oneSheet(function* () {
    yield '<row r="1"><c r="A1" t="inlineStr"><is><t>';
    yield* text;
    yield `</t></is></c></row>${after}`;
  });
}

function randomFile(file: string): Promise<void> {
  return writeStream(
    at(file),
    (function* () {
      for (let i = 0; i < 50; i++) yield crypto.randomBytes(MiB);
    })(),
  );
}

interface Case {
  file: string;
  what: string;
  make: () => Promise<void>;
}

const allCases: Case[] = [
  {
    file: 'bomb.xlsx',
    what: 'zip bomb: a sheet of 1.5 GiB of spaces, deflated',
    make: () =>
      writeZip(
        at('bomb.xlsx'),
        oneSheet(() => repeated(' ', 1.5 * GiB)),
        { level: 9 },
      ),
  },
  {
    file: 'cell-1g-shared.xlsx',
    what: 'one 1.2 GiB cell in sharedStrings.xml',
    make: () =>
      writeZip(
        at('cell-1g-shared.xlsx'),
        oneSheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', {
          sharedStrings: function* () {
            yield '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>';
            yield* repeated('A', 1.2 * GiB);
            yield '</t></si></sst>';
          },
        }),
        { level: 9 },
      ),
  },
  {
    file: 'cell-1g-inline.xlsx',
    what: 'one 1.2 GiB inline-string cell in the sheet',
    make: () => writeZip(at('cell-1g-inline.xlsx'), inlineCellSheet(repeated('A', 1.2 * GiB)), { level: 9 }),
  },
  {
    file: 'cell-400m-stored.xlsx',
    what: 'a 400 MiB cell under every limit (stored, not deflated), then a normal row',
    make: () =>
      writeZip(
        at('cell-400m-stored.xlsx'),
        inlineCellSheet(repeated('0123456789', 40 * MiB), '<row r="2"><c r="A2" t="inlineStr"><is><t>SB00001</t></is></c></row>'),
        { store: true },
      ),
  },
  {
    file: 'strings-27m-stored.xlsx',
    what: '128 MB of empty shared strings (27 million <si/>, stored): the most offsets a file can make the reader keep',
    make: () =>
      writeZip(
        at('strings-27m-stored.xlsx'),
        oneSheet('<row r="1"><c r="A1" t="s"><v>26843000</v></c></row>', {
          sharedStrings: function* () {
            yield '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">';
            yield* repeated('<si/>', Math.floor((128 * MiB - 200) / 5));
            yield '</sst>';
          },
        }),
        { store: true },
      ),
  },
  {
    file: 'wide-rows.xlsx',
    what: '200,000 rows of one cell at column XFD: 40 bytes of XML, 16,384 cells a row',
    make: () =>
      writeZip(
        at('wide-rows.xlsx'),
        oneSheet(function* () {
          for (let i = 1; i <= 200_000; i += 1000) {
            let chunk = '';
            for (let r = i; r < i + 1000; r++) chunk += `<row r="${r}"><c r="XFD${r}"><v>${r}</v></c></row>`;
            yield chunk;
          }
        }),
      ),
  },
  {
    file: 'entries-100k.xlsx',
    what: 'a workbook with 100,000 files inside',
    make: async () => {
      const parts = oneSheet('<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>') as Record<string, string>;
      for (let i = 0; i < 100_000; i++) parts[`customXml/item${i}.xml`] = '<a/>';
      fs.writeFileSync(at('entries-100k.xlsx'), storedZip(parts));
    },
  },
  { file: 'random.csv', what: '50 MB of random bytes', make: () => randomFile('random.csv') },
  { file: 'random.xlsx', what: '50 MB of random bytes', make: () => randomFile('random.xlsx') },
  {
    file: 'one-line.csv',
    what: '50 MB of text without a line break',
    make: () => writeStream(at('one-line.csv'), repeated('SB00001 C000000001 ', (50 * MiB) / 19)),
  },
  {
    file: 'truncated.xlsx',
    what: 'the first half of a workbook (a download cut short)',
    make: async () => {
      const parts = oneSheet(() => inlineRows(100_000, (r, c) => (c ? child(r) : parent(r))));
      await writeZip(at('truncated.xlsx'), parts);
      const bytes = fs.readFileSync(at('truncated.xlsx'));
      fs.writeFileSync(at('truncated.xlsx'), bytes.subarray(0, bytes.length >> 1));
    },
  },
  {
    file: 'password.xlsx',
    what: 'a password-protected workbook (an OLE file)',
    make: async () => fs.writeFileSync(at('password.xlsx'), oleFile(['EncryptionInfo', 'EncryptedPackage'])),
  },
  {
    file: 'bags-1m.xlsx',
    what: '1,000,000 rows, two columns, written by exceljs (shared strings)',
    make: async () => {
      const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: at('bags-1m.xlsx'), useSharedStrings: true, useStyles: false });
      const ws = wb.addWorksheet('Bags');
      ws.addRow(['Parent Bag', 'Child Bag']).commit();
      for (let i = 0; i < ROWS_1M; i++) ws.addRow([parent(i), child(i)]).commit();
      ws.commit();
      await wb.commit();
    },
  },
  { file: 'bags-1m.csv', what: 'the same 1,000,000 rows as CSV', make: () => writeStream(at('bags-1m.csv'), bagLines(ROWS_1M, ',')) },
  {
    file: 'no-addresses.xlsx',
    what: '100,000 rows whose rows and cells have no r= address',
    make: () =>
      writeZip(
        at('no-addresses.xlsx'),
        oneSheet(function* () {
          for (let i = 0; i < 100_000; i += 1000) {
            let chunk = '';
            for (let j = i; j < i + 1000; j++)
              chunk += `<row><c t="inlineStr"><is><t>${parent(j)}</t></is></c><c t="inlineStr"><is><t>${child(j)}</t></is></c></row>`;
            yield chunk;
          }
        }),
      ),
  },
  {
    file: 'title-second-sheet.xlsx',
    what: 'a notes sheet, then the data on sheet 2 under a title row',
    make: () =>
      writeZip(
        at('title-second-sheet.xlsx'),
        workbookParts({
          sheets: [
            { name: 'Notes', data: '<row r="1"><c r="A1" t="inlineStr"><is><t>Read me first</t></is></c></row>' },
            {
              name: 'Bags',
              part: sheetPart(function* () {
                yield '<row r="1"><c r="A1" t="inlineStr"><is><t>Bag list, January 2026</t></is></c></row>';
                yield* inlineRows(10_000, (r, c) => (r === 1 ? ['Parent', 'Child'][c] : c ? child(r) : parent(r)));
              }),
            },
          ],
        }),
      ),
  },
  {
    file: 'semicolon-1252.csv',
    what: 'Excel "CSV" from a European Windows: ; and windows-1252',
    make: async () => {
      let text = 'Parent;Child;Remarque\r\n';
      for (let i = 0; i < 10_000; i++) text += `${parent(i)};${child(i)};Café crème ${i % 7},5 € für Müller\r\n`;
      fs.writeFileSync(at('semicolon-1252.csv'), Buffer.from(text.replace(/€/g, '\x80'), 'latin1'));
    },
  },
  {
    file: 'unicode-text.txt',
    what: 'Excel "Unicode Text": UTF-16 LE, tab-separated',
    make: async () => {
      let text = 'Parent\tChild\tNote\r\n';
      for (let i = 0; i < 10_000; i++) text += `${parent(i)}\t${child(i)}\t東京 ${i}\r\n`;
      fs.writeFileSync(at('unicode-text.txt'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    },
  },
];

/** BENCH_HOSTILE_ONLY=bags-1m.xlsx,bags-1m.csv runs some of the files (the last line then has only their figures). */
const only = process.env.BENCH_HOSTILE_ONLY?.split(',');
const cases = only ? allCases.filter((c) => only.includes(c.file)) : allCases;

type Result = Outcome & { peak_rss_mb: number };

/**
 * Runs one file in a child of its own. Through sh, which forks it: on Linux a process started
 * straight from this one would inherit this process's peak RSS as its own maxRSS (the kernel keeps
 * it across fork and exec), and this one has held the 1M-row workbook's writer.
 */
function run(file: string, mode: 'reader' | 'exceljs' | 'idle'): Result {
  const args = ['--import', 'tsx', 'bench/hostile-run.ts', mode === 'idle' ? '-' : at(file), file, mode];
  const out = execFileSync('/bin/sh', ['-c', '"$0" "$@"; exit $?', process.execPath, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Result;
}

const mb = (bytes: number) => (bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`);
const rows: string[][] = [];
const results = new Map<string, Result & { size: number }>();
try {
  for (const c of cases) {
    const made = performance.now();
    await c.make();
    const size = fs.statSync(at(c.file)).size;
    const r = { ...run(c.file, 'reader'), size };
    results.set(c.file, r);
    const outcome =
      r.outcome === 'read'
        ? `read ${r.rows!.toLocaleString('en-US')} rows${r.problems ? `, ${r.problems} problem cells` : ''} in ${(r.inspect_s! + r.read_s!).toFixed(2)} s — ${r.sheets!.join('; ')}`
        : `${r.outcome === 'crash' ? 'CRASH ' : ''}${r.message}`;
    rows.push([c.file, mb(size), `${r.peak_rss_mb}`, outcome]);
    console.error(`${c.file} (${c.what}; made in ${((performance.now() - made) / 1000).toFixed(1)} s): ${outcome} [${r.peak_rss_mb} MB]`);
    // The big files go as soon as they are read: the 1M ones wait for the baseline.
    if (!c.file.startsWith('bags-1m')) fs.rmSync(at(c.file));
  }
  const xlsx = results.get('bags-1m.xlsx');
  const csv = results.get('bags-1m.csv');
  const baseline = xlsx && run('bags-1m.xlsx', 'exceljs');
  if (xlsx && baseline)
    rows.push([
      'bags-1m.xlsx (exceljs)',
      mb(xlsx.size),
      `${baseline.peak_rss_mb}`,
      `read ${baseline.rows!.toLocaleString('en-US')} rows in ${baseline.read_s} s (baseline: exceljs streaming reader)`,
    ]);

  // What every child holds before reading a byte (Node, the tsx loader, the module): part of each peak above.
  const idle = run('-', 'idle');
  rows.push(['(no file: Node + tsx + the module)', '', `${idle.peak_rss_mb}`, 'the floor under every peak RSS above']);

  const width = (i: number) => Math.max(...rows.map((r) => r[i].length), ['file', 'size', 'peak RSS MB'][i]?.length ?? 0);
  console.log(`| ${'file'.padEnd(width(0))} | ${'size'.padStart(width(1))} | ${'peak RSS MB'.padStart(width(2))} | outcome`);
  console.log(`|${'-'.repeat(width(0) + 2)}|${'-'.repeat(width(1) + 2)}|${'-'.repeat(width(2) + 2)}|---------`);
  for (const r of rows) console.log(`| ${r[0].padEnd(width(0))} | ${r[1].padStart(width(1))} | ${r[2].padStart(width(2))} | ${r[3]}`);

  const all = [...results.values()];
  const figures = {
    files: all.length,
    crashes: all.filter((r) => r.outcome === 'crash').length,
    refused: all.filter((r) => r.outcome === 'refused').length,
    max_peak_rss_mb: Math.max(...all.map((r) => r.peak_rss_mb)),
    idle_rss_mb: idle.peak_rss_mb,
    ...(xlsx && baseline
      ? {
          rows_1m_xlsx_per_s: Math.round(xlsx.rows! / xlsx.read_s!),
          rows_1m_xlsx_with_inspect_per_s: Math.round(xlsx.rows! / (xlsx.read_s! + xlsx.inspect_s!)),
          xlsx_1m_peak_rss_mb: xlsx.peak_rss_mb,
          exceljs_rows_per_s: Math.round(baseline.rows! / baseline.read_s!),
          exceljs_peak_rss_mb: baseline.peak_rss_mb,
        }
      : {}),
    ...(csv ? { rows_1m_csv_per_s: Math.round(csv.rows! / csv.read_s!), csv_1m_peak_rss_mb: csv.peak_rss_mb } : {}),
  };
  fs.mkdirSync('bench/results', { recursive: true });
  fs.appendFileSync('bench/results/hostile.jsonl', JSON.stringify({ at: new Date().toISOString(), ...figures }) + '\n');
  console.log(
    Object.entries(figures)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
