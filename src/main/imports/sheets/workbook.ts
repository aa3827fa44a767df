import { isBuiltinDateFormat, isDateFormatCode } from './cells';
import { refusals } from './messages';
import { XmlDamage, XmlScanner, type XmlHandler, type XmlTag } from './xml';
import { MAX_SHARED_STRINGS_BYTES, MAX_SHEET_BYTES, MAX_SMALL_PART_BYTES, MAX_ZIP_ENTRIES, WorkbookZip, asRefusal, type ZipPart } from './zip';

/** A workbook's map: its sheets in order with the part each lives in, and what cells need to be read right. */
export interface Workbook {
  zip: WorkbookZip;
  /** The file's name as the person knows it, for sentences. */
  name: string;
  sheets: SheetEntry[];
  /** Dates count from 1904-01-01 (old Mac workbooks) instead of 1900. */
  date1904: boolean;
  /** By cell style index (`s`): 1 when the style's number format is a date or time. */
  dateStyles: Uint8Array;
  sharedStrings?: ZipPart;
}

export interface SheetEntry {
  index: number;
  name: string;
  hidden: boolean;
  /** The worksheet part; undefined for chart sheets and other sheets without cells. */
  part?: ZipPart;
  /** Why it cannot be read, as a sentence. */
  problem?: string;
}

/** Excel allows no more cell formats (or number formats) than this; a larger `s` is not from Excel. */
const MAX_CELL_FORMATS = 65_536;

/**
 * Runs a part through the scanner, one inflated chunk (about 16 KB) at a time, or `slice()`
 * characters when that is less; yields after each so the caller can hand on what it collected.
 */
export async function* scanChunks(
  book: Workbook | WorkbookZip,
  part: ZipPart,
  handler: XmlHandler,
  name: string,
  slice: () => number = () => Infinity,
): AsyncGenerator<void> {
  const zip = book instanceof WorkbookZip ? book : book.zip;
  const scanner = new XmlScanner(handler);
  try {
    for await (const text of zip.text(part)) {
      for (let at = 0, step = slice(); at < text.length; at += step, step = slice()) {
        scanner.write(at === 0 && step >= text.length ? text : text.slice(at, at + step));
        yield;
      }
    }
    scanner.end();
  } catch (error) {
    if (error instanceof XmlDamage) throw refusals.damaged(name);
    throw asRefusal(error, name);
  }
}

async function scanPart(zip: WorkbookZip, part: ZipPart, handler: XmlHandler, name: string): Promise<void> {
  if (part.size > MAX_SMALL_PART_BYTES) throw refusals.partTooBig(name, part.name, part.size, MAX_SMALL_PART_BYTES);
  for await (const _ of scanChunks(zip, part, handler, name));
}

/** Handlers for parts whose text is never read: only their tags matter. */
const tagsOnly = (open: (name: string, tag: XmlTag) => void): XmlHandler => ({ wantsText: false, open, close() {}, text() {} });

interface Relationship {
  type: string;
  target: string;
}

/** The part a relationship points to: a target is relative to the folder of the part that holds the relationship, or absolute from the package root. */
export function resolveTarget(fromPart: string, target: string): string {
  let decoded = target.replace(/\\/g, '/');
  try {
    decoded = decodeURIComponent(decoded);
  } catch {
    // a bare % in a name: keep it as written
  }
  const base = decoded.startsWith('/') ? [] : fromPart.split('/').slice(0, -1);
  for (const segment of decoded.split('/')) {
    if (segment === '..') base.pop();
    else if (segment !== '.' && segment !== '') base.push(segment);
  }
  return base.join('/');
}

/** `xl/workbook.xml` → `xl/_rels/workbook.xml.rels` */
function relationshipsPart(partName: string): string {
  const slash = partName.lastIndexOf('/');
  return `${partName.slice(0, slash + 1)}_rels/${partName.slice(slash + 1)}.rels`;
}

async function readRelationships(zip: WorkbookZip, sourcePart: string, name: string): Promise<Map<string, Relationship> | undefined> {
  const part = zip.part(relationshipsPart(sourcePart));
  if (!part) return undefined;
  const rels = new Map<string, Relationship>();
  await scanPart(
    zip,
    part,
    tagsOnly((element, tag) => {
      if (element !== 'Relationship' || tag.attr('TargetMode')?.toLowerCase() === 'external') return;
      const id = tag.attr('Id');
      const target = tag.attr('Target');
      if (id === undefined || target === undefined) return;
      if (rels.size >= MAX_ZIP_ENTRIES) throw refusals.damaged(name);
      rels.set(id, { type: tag.attr('Type') ?? '', target: resolveTarget(sourcePart, target) });
    }),
    name,
  );
  return rels;
}

const ofType = (rels: Map<string, Relationship> | undefined, type: string) => [...(rels?.values() ?? [])].find((r) => r.type.endsWith(`/${type}`));

/** The workbook part named by the package's relationships (Excel: xl/workbook.xml), or why the zip is not a workbook. */
async function findWorkbookPart(zip: WorkbookZip, name: string): Promise<ZipPart> {
  const main = ofType(await readRelationships(zip, '', name), 'officeDocument')?.target ?? 'xl/workbook.xml';
  if (/\.bin$/i.test(main) || zip.has('xl/workbook.bin')) throw refusals.binaryWorkbook(name);
  const part = zip.part(main);
  if (part) return part;
  if (zip.has('content.xml') && zip.has('mimetype')) throw refusals.openDocument(name);
  throw refusals.notWorkbook(name);
}

interface SheetTag {
  name: string;
  relId: string | undefined;
  hidden: boolean;
}

async function readWorkbookPart(zip: WorkbookZip, part: ZipPart, name: string) {
  const sheets: SheetTag[] = [];
  let date1904 = false;
  let root: string | undefined;
  await scanPart(
    zip,
    part,
    tagsOnly((element, tag) => {
      root ??= element;
      if (root !== 'workbook') throw refusals.notWorkbook(name);
      if (element === 'sheet') {
        if (sheets.length >= MAX_ZIP_ENTRIES) throw refusals.damaged(name); // each sheet is a file in the zip
        const state = tag.attr('state');
        sheets.push({
          name: tag.attr('name') ?? `Sheet${sheets.length + 1}`,
          relId: tag.attr('id'),
          hidden: state === 'hidden' || state === 'veryHidden',
        });
      } else if (element === 'workbookPr') {
        const v = tag.attr('date1904');
        date1904 = v === '1' || v === 'true';
      }
    }),
    name,
  );
  if (!sheets.length) throw refusals.damaged(name);
  return { sheets, date1904 };
}

/** styles.xml → for each cell style (`<cellXfs>`), whether its number format shows a date. */
async function readDateStyles(zip: WorkbookZip, part: ZipPart | undefined, name: string): Promise<Uint8Array> {
  if (!part) return new Uint8Array(0);
  const customIsDate = new Map<number, boolean>();
  const formats: number[] = [];
  let inNumFmts = false;
  let inCellXfs = false;
  await scanPart(
    zip,
    part,
    {
      wantsText: false,
      open(element, tag) {
        if (element === 'numFmts') inNumFmts = true;
        else if (element === 'cellXfs') inCellXfs = true;
        else if (element === 'numFmt' && inNumFmts && customIsDate.size < MAX_CELL_FORMATS)
          customIsDate.set(Number(tag.attr('numFmtId')), isDateFormatCode(tag.attr('formatCode') ?? ''));
        else if (element === 'xf' && inCellXfs && formats.length < MAX_CELL_FORMATS) formats.push(Number(tag.attr('numFmtId') ?? 0));
      },
      close(element) {
        if (element === 'numFmts') inNumFmts = false;
        else if (element === 'cellXfs') inCellXfs = false;
      },
      text() {},
    },
    name,
  );
  return Uint8Array.from(formats, (id) => ((customIsDate.get(id) ?? isBuiltinDateFormat(id)) ? 1 : 0));
}

/**
 * Opens an .xlsx and reads its map: the zip's table of contents (with the bomb limits), the
 * workbook's sheets in order, their parts, the date system and the date styles. Shared strings
 * and sheets are left for later. The caller closes `zip`.
 */
export async function openWorkbook(path: string, name: string): Promise<Workbook> {
  const zip = await WorkbookZip.open(path, name);
  try {
    const workbookPart = await findWorkbookPart(zip, name);
    const { sheets, date1904 } = await readWorkbookPart(zip, workbookPart, name);
    const rels = await readRelationships(zip, workbookPart.name, name);
    if (!rels) throw refusals.damaged(name);
    const sharedStrings = zip.part(ofType(rels, 'sharedStrings')?.target ?? '');
    if (sharedStrings && sharedStrings.size > MAX_SHARED_STRINGS_BYTES) throw refusals.textTooBig(name, sharedStrings.size, MAX_SHARED_STRINGS_BYTES);
    const dateStyles = await readDateStyles(zip, zip.part(ofType(rels, 'styles')?.target ?? ''), name);
    const entries = sheets.map((sheet, index): SheetEntry => {
      const rel = sheet.relId === undefined ? undefined : rels.get(sheet.relId);
      const entry: SheetEntry = { index, name: sheet.name, hidden: sheet.hidden };
      if (!rel) throw refusals.damaged(name);
      if (!rel.type.endsWith('/worksheet')) {
        entry.problem = refusals.notCells(sheet.name, rel.type.endsWith('/chartsheet'));
        return entry;
      }
      entry.part = zip.part(rel.target);
      if (!entry.part) throw refusals.damaged(name);
      if (entry.part.size > MAX_SHEET_BYTES) entry.problem = refusals.sheetTooBig(sheet.name, entry.part.size, MAX_SHEET_BYTES);
      return entry;
    });
    return { zip, name, sheets: entries, date1904, dateStyles, sharedStrings };
  } catch (error) {
    zip.close();
    throw asRefusal(error, name);
  }
}
