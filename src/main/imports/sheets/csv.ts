import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { CappedText, TOO_LONG } from './cells';
import { refusals } from './messages';
import type { Sniffed } from './sniff';
import { MAX_COLUMNS, nextBatch, type CsvEncoding, type Delimiter, type RawCell, type SourceRow } from './types';

/**
 * A record (one row, quoted line breaks included) longer than this is not a row of a list: the
 * file is something else, or a quote is never closed. It also bounds what one row can hold.
 */
export const MAX_CSV_RECORD_CHARS = 1_000_000;
/** Delimiters are detected from this much of the file. */
const SAMPLE_BYTES = 64 * 1024;
/** …and from at most this many of its records. */
const SAMPLE_RECORDS = 200;
/** Small enough that one read's rows (up to ~30,000 for the shortest lines) stay a few MB. */
const READ_CHUNK = 64 * 1024;

/** In the order that wins a tie: a comma, unless another splits the lines more consistently. */
export const DELIMITERS: readonly Delimiter[] = [',', ';', '\t', '|'];

const QUOTE = 34;
const LF = 10;
const CR = 13;
// Parser states.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;
const AFTER_CR = 4;

/**
 * Splits text into records the way Excel opens a CSV file: a field that starts with `"` is quoted
 * (delimiters and line breaks inside are text, `""` is one quote, text after the closing quote is
 * kept); a quote elsewhere is an ordinary character; CRLF, LF and CR all end a record. A field
 * longer than MAX_CELL_CHARS becomes TOO_LONG without being built; an empty one is null.
 */
export class CsvRecords {
  /** Finished rows that hold any value, taken by the reader in batches; blank records are counted, not kept. */
  rows: SourceRow[] = [];
  /** Fields per record (blank records left out), for delimiter detection. */
  widths: number[] | undefined;
  private readonly delimiter: number;
  private state = FIELD_START;
  private readonly field = new CappedText();
  private record: RawCell[] = [];
  private recordChars = 0;
  /** The record number of the record being read (1-based, as Excel numbers the rows). */
  private line = 1;

  constructor(
    delimiter: Delimiter,
    private readonly name: string,
  ) {
    this.delimiter = delimiter.charCodeAt(0);
  }

  write(s: string): void {
    if (s.indexOf('\0') >= 0) throw refusals.binary(this.name);
    const d = this.delimiter;
    const n = s.length;
    let start = 0; // where the unfinished piece of the current field starts in s
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (this.state === AFTER_CR) {
        this.state = FIELD_START;
        if (c === LF) continue; // CRLF; a lone CR ended the record, and this character starts the next
      }
      if (this.state === FIELD_START) {
        if (c === QUOTE) {
          this.state = QUOTED;
          continue;
        }
        this.state = UNQUOTED;
        start = i;
      }
      if (this.state === UNQUOTED) {
        if (c === d) {
          this.piece(s, start, i);
          this.endField();
          this.state = FIELD_START;
        } else if (c === LF || c === CR) {
          this.piece(s, start, i);
          this.endField();
          this.endRecord();
          this.state = c === CR ? AFTER_CR : FIELD_START;
        }
      } else if (this.state === QUOTED) {
        // Straight to the next quote: nothing else means anything inside quotes.
        const quote = s.indexOf('"', i);
        const end = quote < 0 ? n : quote;
        this.piece(s, i, end);
        if (quote >= 0) this.state = QUOTE_IN_QUOTED;
        i = end;
        start = n;
      } else if (c === QUOTE) {
        // QUOTE_IN_QUOTED: "" is one quote
        this.piece('"', 0, 1);
        this.state = QUOTED;
      } else {
        // After the closing quote: the rest up to the delimiter is kept, as Excel does.
        this.state = UNQUOTED;
        start = i;
        i--;
      }
    }
    if (this.state === UNQUOTED) this.piece(s, start, n);
  }

  /** After the last chunk: the last record, if the file does not end with a line break. */
  end(): void {
    if (this.state === QUOTED) throw refusals.csvQuoteNeverClosed(this.name, this.line);
    if (this.state === UNQUOTED || this.state === QUOTE_IN_QUOTED || this.record.length) {
      this.endField();
      this.endRecord();
    }
    this.state = FIELD_START;
  }

  private piece(s: string, from: number, to: number): void {
    if (to <= from) return;
    this.recordChars += to - from;
    if (this.recordChars > MAX_CSV_RECORD_CHARS) {
      if (this.state === QUOTED) throw refusals.csvQuotedTooLong(this.name, this.line, MAX_CSV_RECORD_CHARS);
      throw refusals.csvLineTooLong(this.name, this.line, MAX_CSV_RECORD_CHARS);
    }
    if (!this.field.tooLong) this.field.add(from === 0 && to === s.length ? s : s.slice(from, to));
  }

  private endField(): void {
    const field = this.field;
    this.record.push(field.tooLong ? TOO_LONG : field.length ? field.value : null);
    if (this.record.length > MAX_COLUMNS) throw refusals.tooManyColumns(this.name, this.line, MAX_COLUMNS);
    field.reset();
  }

  private endRecord(): void {
    const cells = this.record;
    let last = cells.length - 1;
    while (last >= 0 && cells[last] === null) last--;
    if (last >= 0) {
      cells.length = last + 1;
      this.rows.push({ line: this.line, cells });
      this.widths?.push(cells.length);
    }
    this.record = [];
    this.recordChars = 0;
    this.line++;
  }
}

/** How many bytes at the end of `bytes` start a UTF-8 character that continues past it. */
function cutUtf8Tail(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back];
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const needs = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return needs > back ? back : 0;
  }
  return 0;
}

/**
 * The file's encoding: UTF-16 from the sniffed byte-order mark or pattern; UTF-8 when it starts
 * with its byte-order mark or every byte of it is valid UTF-8; otherwise windows-1252, what
 * Excel's "CSV" on Windows writes. One pass over the file, which also refuses binary data anywhere.
 */
export async function detectEncoding(path: string, name: string, sniffed: Sniffed): Promise<CsvEncoding> {
  if (sniffed.utf16) return sniffed.utf16;
  const fd = await fs.promises.open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let carried = 0;
    let utf8 = true;
    let position = 0;
    for (;;) {
      const { bytesRead } = await fd.read(buffer, carried, buffer.length - carried, position);
      if (position === 0 && bytesRead >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) return 'utf-8';
      position += bytesRead;
      const filled = buffer.subarray(0, carried + bytesRead);
      if (filled.indexOf(0, carried) >= 0) throw refusals.binary(name);
      if (bytesRead === 0) return utf8 && isUtf8(filled) ? 'utf-8' : 'windows-1252';
      const cut = filled.length - cutUtf8Tail(filled);
      if (utf8 && !isUtf8(filled.subarray(0, cut))) utf8 = false;
      carried = filled.length - cut;
      buffer.copy(buffer, 0, cut, filled.length);
    }
  } finally {
    await fd.close();
  }
}

/**
 * The delimiter that splits the first records most consistently into two or more fields: the
 * share of records with the most common field count, for each candidate; a tie goes to the
 * earlier in DELIMITERS (a comma first). Quotes are respected: the sample is parsed, not counted.
 */
export function detectDelimiter(sample: string, complete: boolean): Delimiter {
  let best: Delimiter = ',';
  let bestScore = 0;
  for (const delimiter of DELIMITERS) {
    const parser = new CsvRecords(delimiter, '');
    parser.widths = [];
    try {
      parser.write(sample);
      if (complete) parser.end();
    } catch {
      continue; // a line too long or a quote never closed with this delimiter: not this one
    }
    // Without the end of the file, the last record may be cut short: leave it out.
    const widths = parser.widths.slice(0, complete ? SAMPLE_RECORDS : Math.min(SAMPLE_RECORDS, parser.widths.length - 1));
    if (!widths.length) continue;
    const counts = new Map<number, number>();
    for (const w of widths) counts.set(w, (counts.get(w) ?? 0) + 1);
    let modeCount = 0;
    for (const [width, count] of counts) if (width >= 2 && count > modeCount) modeCount = count;
    const score = modeCount / widths.length;
    if (score > bestScore + 1e-9) {
      best = delimiter;
      bestScore = score;
    }
  }
  return best;
}

/** The first SAMPLE_BYTES of the file, decoded; `complete` when that is the whole file. */
export async function readSample(path: string, encoding: CsvEncoding): Promise<{ sample: string; complete: boolean }> {
  const fd = await fs.promises.open(path, 'r');
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES + 1);
    const { bytesRead } = await fd.read(buffer, 0, buffer.length, 0);
    const complete = bytesRead <= SAMPLE_BYTES;
    const bytes = buffer.subarray(0, Math.min(bytesRead, SAMPLE_BYTES));
    // stream: a character cut by the sample's end is left out rather than turned into U+FFFD.
    return { sample: new TextDecoder(encoding).decode(bytes, { stream: !complete }), complete };
  } finally {
    await fd.close();
  }
}

/** A CSV file's records in batches (nextBatch), streamed in 64 KiB reads. */
export async function* readCsvRows(path: string, name: string, encoding: CsvEncoding, delimiter: Delimiter): AsyncGenerator<SourceRow[]> {
  const parser = new CsvRecords(delimiter, name);
  const decoder = new TextDecoder(encoding);
  const stream = fs.createReadStream(path, { highWaterMark: READ_CHUNK });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      parser.write(decoder.decode(chunk, { stream: true }));
      for (let batch; (batch = nextBatch(parser.rows, false));) yield batch;
    }
    parser.write(decoder.decode());
    parser.end();
    for (let batch; (batch = nextBatch(parser.rows, true));) yield batch;
  } finally {
    stream.destroy();
  }
}
