import type { Page } from '@playwright/test';
import { expect, screenshot } from './fixtures';

/** A problem the check may meet on purpose, with the reason it is acceptable there. */
export interface Allowed {
  /** Matched against the problem's text (selector path, text and what is wrong). */
  match: RegExp;
  why: string;
}

export interface LayoutOptions {
  /** Every control must be on screen without scrolling (first-run setup, sign-in, lock). */
  mustFit?: boolean;
  allow?: readonly Allowed[];
}

/**
 * What is wrong with the layout of the page as it is, measured in the page:
 * - text clipped: a box that hides what overflows it (overflow hidden/clip, or an ellipsis) with
 *   more content than it shows; text or a control spilling out of the card or cell drawn around
 *   it, or off the side of the window; a select or input too narrow for the text it shows;
 * - a word broken inside itself across lines (a bag id, "Remove" one letter a line), found by
 *   measuring each word's rects with a Range; and short texts (three words or fewer: a button,
 *   a label, a heading, a chip, a cell) that wrap onto two lines at all;
 * - with `mustFit`, a control below the fold or off the side of the window.
 * Each problem names the element by a selector-like path and its text.
 */
export async function layoutProblems(page: Page, { mustFit = false, allow = [] }: LayoutOptions = {}): Promise<string[]> {
  const found = await page.evaluate((mustFit) => {
    const problems: string[] = [];
    const px = (v: string) => parseFloat(v) || 0;
    const describe = (el: Element): string => {
      const parts: string[] = [];
      for (let e: Element | null = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
        let part = e.tagName.toLowerCase();
        if (e.id) part += `#${e.id}`;
        const classes = [...e.classList].slice(0, 2);
        if (classes.length) part += `.${classes.join('.')}`;
        const testid = e.getAttribute('data-testid');
        if (testid) part += `[data-testid=${testid}]`;
        parts.unshift(part);
      }
      return parts.join(' > ');
    };
    const quote = (text: string) => `"${text.replace(/\s+/g, ' ').trim().slice(0, 60)}"`;
    const report = (el: Element, text: string, what: string) => problems.push(`${describe(el)} ${quote(text)}: ${what}`);

    /** Laid out and painted; text for screen readers only does not count. */
    const shown = (el: Element): boolean => {
      if (el.closest('.sr-only, svg, option, [hidden]')) return false;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.display === 'none') return false;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0;
    };
    const scrolls = (style: CSSStyleDeclaration, axis: 'X' | 'Y') => ['auto', 'scroll'].includes(style[`overflow${axis}`]);
    const clipsX = (style: CSSStyleDeclaration) => ['hidden', 'clip'].includes(style.overflowX);
    const clipsY = (style: CSSStyleDeclaration) => ['hidden', 'clip'].includes(style.overflowY);
    /** A box a person sees: a border, a background or a shadow around its content. */
    const drawsBox = (style: CSSStyleDeclaration) =>
      ['Top', 'Right', 'Bottom', 'Left'].some((s) => px(style.getPropertyValue(`border-${s.toLowerCase()}-width`)) > 0) ||
      !/rgba\(\d+, \d+, \d+, 0\)|transparent/.test(style.backgroundColor) ||
      style.boxShadow !== 'none';
    const rectsOf = (range: Range) => [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
    /** Lines a set of rects sits on: a rect more than half a line below the one before starts a new line. */
    const linesOf = (rects: DOMRect[], fontPx: number) => {
      const tops = rects.map((r) => r.top).sort((a, b) => a - b);
      let lines = tops.length ? 1 : 0;
      for (let i = 1; i < tops.length; i++) if (tops[i] - tops[i - 1] > fontPx / 2) lines++;
      return lines;
    };

    const elements = [...document.body.querySelectorAll('*')].filter(shown);

    // (a) Boxes that hide what overflows them, with more than they show (inputs and selects are measured below).
    for (const el of elements) {
      if (el.matches('input, select, textarea')) continue;
      const style = getComputedStyle(el);
      const ellipsis = style.textOverflow === 'ellipsis';
      if ((clipsX(style) || ellipsis) && el.scrollWidth > el.clientWidth + 1)
        report(el, el.textContent ?? '', `clipped: ${el.scrollWidth - el.clientWidth}px wider than it shows`);
      if (clipsY(style) && el.scrollHeight > el.clientHeight + 1)
        report(el, el.textContent ?? '', `clipped: ${el.scrollHeight - el.clientHeight}px taller than it shows`);
    }

    // (a) Text and controls spilling out of the card, cell or chip drawn around them, or off the window.
    const outside = (r: DOMRect, box: DOMRect) =>
      r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1;
    const spills = (el: Element, r: DOMRect): string | null => {
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        const style = getComputedStyle(a);
        // Inside a scrolling box the content may lie beyond its edge: it scrolls into view.
        if (scrolls(style, 'X') || scrolls(style, 'Y')) return null;
        if (style.display !== 'inline' && drawsBox(style) && outside(r, a.getBoundingClientRect())) return `spills out of ${describe(a)}`;
      }
      if (r.left < -1 || r.right > window.innerWidth + 1) return 'runs off the side of the window';
      return null;
    };
    const textWalker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const texts: Text[] = [];
    for (let n = textWalker.nextNode(); n; n = textWalker.nextNode()) {
      const parent = n.parentElement;
      if (parent && (n.textContent ?? '').trim() && shown(parent)) texts.push(n as Text);
    }
    for (const node of texts) {
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of rectsOf(range)) {
        const why = spills(node.parentElement!, r);
        if (why) {
          report(node.parentElement!, node.textContent ?? '', why);
          break;
        }
      }
    }
    const controls = elements.filter((el) => el.matches('button, input, select, textarea, a[href], [role="button"], [role="tab"]'));
    for (const el of controls) {
      const why = spills(el, el.getBoundingClientRect());
      if (why) report(el, (el as HTMLElement).innerText || el.getAttribute('aria-label') || '', why);
    }

    // (a) A select or input narrower than the text it shows: the rest is cut off.
    const canvas = document.createElement('canvas').getContext('2d')!;
    for (const el of controls) {
      if (!(el instanceof HTMLSelectElement || el instanceof HTMLInputElement)) continue;
      if (el instanceof HTMLInputElement && ['checkbox', 'radio', 'file', 'date', 'hidden'].includes(el.type)) continue;
      const text =
        el instanceof HTMLSelectElement
          ? (el.selectedOptions[0]?.text ?? '')
          : el.type === 'password'
            ? '•'.repeat(el.value.length)
            : el.value || el.placeholder;
      if (!text) continue;
      const style = getComputedStyle(el);
      canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      // A select's arrow takes about one line-height of its width.
      const room = el.clientWidth - px(style.paddingLeft) - px(style.paddingRight) - (el instanceof HTMLSelectElement ? px(style.fontSize) * 1.2 : 0);
      const needs = canvas.measureText(text).width;
      if (needs > room + 1) report(el, text, `shows ${Math.round(needs)}px of text in ${Math.round(room)}px: cut off`);
    }

    // (b) Words broken inside themselves: each word's rects on more than one line.
    for (const node of texts) {
      const text = node.textContent ?? '';
      const fontPx = px(getComputedStyle(node.parentElement!).fontSize);
      for (const m of text.matchAll(/\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = linesOf(rectsOf(range), fontPx);
        if (lines > 1) {
          report(node.parentElement!, text, `the word "${m[0]}" is broken across ${lines} lines`);
          break;
        }
      }
    }

    // (b) Short texts — a button, a label, a heading, a chip, a cell of three words or fewer — on two lines or more.
    for (const el of elements) {
      const style = getComputedStyle(el);
      // Inline text wraps with its paragraph; only chips (inline boxes with a fill) stand alone.
      if (style.display === 'inline' && !drawsBox(style)) continue;
      const own = texts.filter((t) => el.contains(t));
      const words = own.flatMap((t) => (t.textContent ?? '').trim().split(/\s+/)).filter(Boolean);
      if (words.length === 0 || words.length > 3) continue;
      // Only the innermost such element is reported: its parent wraps because it does.
      if ([...el.children].some((c) => shown(c) && getComputedStyle(c).display !== 'inline' && own.some((t) => c.contains(t)))) continue;
      const rects = own.flatMap((t) => {
        const range = document.createRange();
        range.selectNodeContents(t);
        return rectsOf(range);
      });
      const lines = linesOf(rects, px(style.fontSize));
      if (lines > 1) report(el, words.join(' '), `a short text on ${lines} lines`);
    }

    // (c) On screens that must fit: every control in view without scrolling.
    if (mustFit) {
      for (const el of controls) {
        const r = el.getBoundingClientRect();
        if (r.bottom > window.innerHeight + 1 || r.right > window.innerWidth + 1)
          report(
            el,
            (el as HTMLElement).innerText || el.getAttribute('aria-label') || '',
            `below the fold or off screen (bottom ${Math.round(r.bottom)}px of ${window.innerHeight}px)`,
          );
      }
    }
    return problems;
  }, mustFit);
  return [...new Set(found)].filter((p) => !allow.some((a) => a.match.test(p)));
}

/** The two station screens every screen is checked at. */
export const STATION_VIEWPORTS = [
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
];

/**
 * Screenshots at both station sizes (`name-1366`, `name-1920`), each checked for clipped, spilled
 * and broken text; `focus` brings the part shown into view at each size. Ends at 1366×768.
 */
export async function shootBoth(page: Page, name: string, focus?: () => Promise<void>): Promise<void> {
  for (const vp of STATION_VIEWPORTS) {
    await page.setViewportSize(vp);
    await focus?.();
    await screenshot(page, `${name}-${vp.width}`);
    expect(await layoutProblems(page), `${name} at ${vp.width}×${vp.height}`).toEqual([]);
  }
  await page.setViewportSize(STATION_VIEWPORTS[0]);
}
