/**
 * A streaming XML scanner for the parts of an .xlsx file: it takes decoded text in chunks of any
 * size and reports start tags, end tags and text, and never holds more than one unfinished tag
 * (at most MAX_TAG_CHARS) between chunks. Text is handed on in pieces as it arrives, so a 1 GB
 * cell costs no more memory than a short one: the handler decides what to keep.
 *
 * Written for speed rather than taken from sax: it finds markup with indexOf instead of stepping
 * through every character, parses attributes only when asked, and skips the text of elements the
 * handler does not read. It checks what a damaged or cut-off part breaks (tags that do not match,
 * an unfinished tag or element at the end, a DOCTYPE, which OOXML forbids) and is lenient about
 * the rest, as Excel is.
 */

/** Not well-formed XML: the reader turns it into the "damaged" sentence for the person. */
export class XmlDamage extends Error {}

/** The tag being reported; valid only during the `open` call. */
export interface XmlTag {
  /** An attribute's value by local name (`r`, `t`, or `id` for `r:id`), entities decoded. */
  attr(name: string): string | undefined;
  /** Several attributes in one pass: `values[i]` becomes the value of `names[i]`, or undefined. */
  attrs(names: readonly string[], values: (string | undefined)[]): void;
  /**
   * Skips the rest of the innermost open element called `name` (this one or one around it): the
   * scanner jumps to its end tag, which the handler hears as usual; nothing inside is reported or
   * checked. For counting, where the inside of a row no longer matters.
   */
  skipTo(name: string): void;
}

export interface XmlHandler {
  /** Read before each run of text: false skips the text unseen (no slicing, no decoding). */
  readonly wantsText: boolean;
  /** A start tag; `name` is the local name (`x:row` → `row`). A self-closing tag is followed by `close`. */
  open(name: string, tag: XmlTag): void;
  close(name: string): void;
  /** A piece of text, entities decoded; one text node may arrive in several pieces. */
  text(piece: string): void;
}

/**
 * An unfinished tag carried from one chunk to the next is never longer than this (an OOXML tag is
 * a few hundred characters; a hyperlink's target a few thousand). A carried tag is scanned again
 * with each chunk, so this also bounds that repeated work.
 */
const MAX_TAG_CHARS = 64 * 1024;
/** Spreadsheet XML nests a dozen elements deep; a part nested deeper is built to exhaust the reader. */
const MAX_DEPTH = 256;
/** `&#x10FFFF;` is the longest entity the scanner decodes. */
const MAX_ENTITY_CHARS = 12;

const LT = 60; // <
const GT = 62; // >
const SLASH = 47; // /
const BANG = 33; // !
const QUESTION = 63; // ?
const QUOTE = 34; // "
const APOS = 39; // '
const COLON = 58; // :
const EQUALS = 61; // =

// What the scanner is inside of between chunks.
const MARKUP = 0;
const COMMENT = 1;
const CDATA = 2;
const SKIP = 3;

const ENTITY = /&(?:#[xX]([0-9a-fA-F]{1,6})|#([0-9]{1,7})|(lt|gt|amp|quot|apos));/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function codePoint(n: number): string {
  return n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff) ? '\ufffd' : String.fromCodePoint(n);
}

/** The five XML entities and numeric character references; anything else is left as written. */
export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(ENTITY, (_, hex: string | undefined, dec: string | undefined, named: string | undefined) =>
    hex ? codePoint(parseInt(hex, 16)) : dec ? codePoint(parseInt(dec, 10)) : NAMED[named!],
  );
}

function isNameEnd(c: number): boolean {
  return c === GT || c === SLASH || c <= 32;
}

export class XmlScanner implements XmlTag {
  /** An unfinished tag, comment end or entity from the end of the last chunk. */
  private pending = '';
  private mode: typeof MARKUP | typeof COMMENT | typeof CDATA | typeof SKIP = MARKUP;
  /** In SKIP mode: the end tag skipped to, without its `>`, and the element's name. */
  private skipTag = '';
  private skipName = '';
  private readonly open: string[] = [];
  private rootSeen = false;
  // The current start tag's attributes: src.slice(from, to). Read by attr() during open().
  private src = '';
  private from = 0;
  private to = 0;
  /** Where the current start tag's name and its local part begin (they differ by a prefix). */
  private nameFrom = 0;
  private localFrom = 0;
  private readonly oneName = [''];
  private readonly oneValue: (string | undefined)[] = [undefined];

  constructor(private readonly handler: XmlHandler) {}

  write(chunk: string): void {
    const s = this.pending.length ? this.pending + chunk : chunk;
    this.pending = '';
    const n = s.length;
    const h = this.handler;
    let i = 0;
    while (i < n) {
      if (this.mode === SKIP) {
        const tag = this.skipTag;
        let end = s.indexOf(tag, i);
        // `</row` must not be the start of `</rows>`; the end tag may have spaces before its `>`.
        while (end >= 0 && end + tag.length < n && s.charCodeAt(end + tag.length) !== GT && s.charCodeAt(end + tag.length) > 32)
          end = s.indexOf(tag, end + 1);
        if (end < 0 || end + tag.length >= n) return this.carry(s, Math.max(i, n - tag.length));
        while (this.open.length && this.open[this.open.length - 1] !== this.skipName) this.open.pop();
        this.mode = MARKUP;
        i = end;
        continue;
      }
      if (this.mode === COMMENT) {
        const end = s.indexOf('-->', i);
        if (end < 0) return this.carry(s, Math.max(i, n - 2));
        this.mode = MARKUP;
        i = end + 3;
        continue;
      }
      if (this.mode === CDATA) {
        const end = s.indexOf(']]>', i);
        const stop = end < 0 ? Math.max(i, n - 2) : end;
        if (stop > i && h.wantsText) h.text(s.slice(i, stop));
        if (end < 0) return this.carry(s, stop);
        this.mode = MARKUP;
        i = end + 3;
        continue;
      }
      const lt = s.indexOf('<', i);
      if (lt !== i) {
        const end = lt < 0 ? n : lt;
        if (h.wantsText) {
          // An entity cut by the end of the chunk waits for the rest of it.
          let stop = end;
          if (lt < 0) {
            const amp = s.lastIndexOf('&', end - 1);
            if (amp >= i && end - amp < MAX_ENTITY_CHARS && s.indexOf(';', amp) < 0) stop = amp;
          }
          if (stop > i) h.text(decodeEntities(s.slice(i, stop)));
          if (stop < end) return this.carry(s, stop);
        }
        if (lt < 0) return;
        i = lt;
      }
      if (i + 1 >= n) return this.carry(s, i);
      const c = s.charCodeAt(i + 1);
      if (c === SLASH) {
        const gt = s.indexOf('>', i + 2);
        if (gt < 0) return this.carry(s, i);
        this.closeTag(s, i + 2, gt);
        i = gt + 1;
      } else if (c === QUESTION) {
        const end = s.indexOf('?>', i + 2);
        if (end < 0) return this.carry(s, i);
        i = end + 2;
      } else if (c === BANG) {
        if (s.startsWith('<!--', i)) {
          this.mode = COMMENT;
          i += 4;
        } else if (s.startsWith('<![CDATA[', i)) {
          this.mode = CDATA;
          i += 9;
        } else if (n - i < 9) {
          return this.carry(s, i);
        } else {
          // A DOCTYPE could declare entities (the "billion laughs"); OOXML parts never have one.
          throw new XmlDamage('a DOCTYPE or unknown declaration');
        }
      } else {
        const gt = this.tagEnd(s, i + 1, n);
        if (gt < 0) return this.carry(s, i);
        this.startTag(s, i + 1, gt);
        i = gt + 1;
      }
    }
  }

  /** After the last chunk: an unfinished tag, comment or element means the part was cut off. */
  end(): void {
    if (this.pending.trim().length || this.mode !== MARKUP) throw new XmlDamage('the part ends inside a tag');
    if (this.open.length) throw new XmlDamage(`<${this.open[this.open.length - 1]}> is never closed`);
    if (!this.rootSeen) throw new XmlDamage('the part holds no XML');
  }

  attr(name: string): string | undefined {
    this.oneName[0] = name;
    this.attrs(this.oneName, this.oneValue);
    return this.oneValue[0];
  }

  attrs(names: readonly string[], values: (string | undefined)[]): void {
    values.fill(undefined, 0, names.length);
    const s = this.src;
    const to = this.to;
    let i = this.from;
    while (i < to) {
      let c = s.charCodeAt(i);
      if (c <= 32) {
        i++;
        continue;
      }
      const nameStart = i;
      let localStart = i;
      while (i < to && (c = s.charCodeAt(i)) !== EQUALS && c > 32) {
        if (c === COLON) localStart = i + 1;
        i++;
      }
      const nameLength = i - localStart;
      while (i < to && s.charCodeAt(i) !== EQUALS) i++;
      i++;
      while (i < to && s.charCodeAt(i) <= 32) i++;
      const quote = s.charCodeAt(i);
      if (quote !== QUOTE && quote !== APOS) return; // not an attribute list: nothing more to read
      const valueEnd = s.indexOf(quote === QUOTE ? '"' : "'", i + 1);
      if (valueEnd < 0 || valueEnd > to) return;
      if (i > nameStart) {
        for (let k = 0; k < names.length; k++) {
          if (names[k].length === nameLength && s.startsWith(names[k], localStart)) {
            values[k] = decodeEntities(s.slice(i + 1, valueEnd));
            break;
          }
        }
      }
      i = valueEnd + 1;
    }
  }

  skipTo(name: string): void {
    if (!this.open.includes(name) && !this.src) throw new XmlDamage(`no open <${name}> to skip to`);
    const prefix = this.src && this.localFrom > this.nameFrom ? this.src.slice(this.nameFrom, this.localFrom) : '';
    this.skipTag = `</${prefix}${name}`;
    this.skipName = name;
    this.mode = SKIP;
  }

  private carry(s: string, from: number): void {
    this.pending = s.slice(from);
    if (this.pending.length > MAX_TAG_CHARS) throw new XmlDamage('a tag longer than 64 KB');
  }

  /** The `>` that ends the tag starting at `from`, skipping any inside quoted attribute values; -1 if not in this chunk. */
  private tagEnd(s: string, from: number, n: number): number {
    for (let i = from; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === GT) return i;
      if (c === QUOTE || c === APOS) {
        i = s.indexOf(c === QUOTE ? '"' : "'", i + 1);
        if (i < 0) return -1;
      } else if (c === LT) {
        throw new XmlDamage('a "<" inside a tag');
      }
    }
    return -1;
  }

  private startTag(s: string, from: number, gt: number): void {
    let i = from;
    let colon = -1;
    for (let c: number; i < gt && !isNameEnd((c = s.charCodeAt(i))); i++) if (c === COLON) colon = i;
    if (i === from) throw new XmlDamage('a tag without a name');
    const name = s.slice(colon >= 0 ? colon + 1 : from, i);
    this.nameFrom = from;
    this.localFrom = colon >= 0 ? colon + 1 : from;
    const selfClosing = s.charCodeAt(gt - 1) === SLASH;
    if (!this.open.length && this.rootSeen) throw new XmlDamage('a second root element');
    this.rootSeen = true;
    this.src = s;
    this.from = i;
    this.to = selfClosing ? gt - 1 : gt;
    this.handler.open(name, this);
    this.src = '';
    if (selfClosing) this.handler.close(name);
    else if (this.open.push(name) > MAX_DEPTH) throw new XmlDamage('elements nested too deep');
  }

  private closeTag(s: string, from: number, gt: number): void {
    let local = from;
    let end = from;
    for (let c: number; end < gt && (c = s.charCodeAt(end)) > 32; end++) if (c === COLON) local = end + 1;
    // Compared in place: the open element's name is the one to hand on, no new string needed.
    const name = this.open.pop();
    if (name === undefined || name.length !== end - local || !s.startsWith(name, local))
      throw new XmlDamage(`</${s.slice(local, end)}> does not close the open element`);
    this.handler.close(name);
  }
}
