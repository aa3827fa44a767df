/**
 * Finds the JSON answer inside a body that has other text around it. BioTrack's PHP servers put
 * notices and warnings before and after the JSON, and those can themselves contain `[` or `{`
 * ("Array to string conversion", "{closure}"), so "from the first bracket" is not enough: this
 * takes the longest span that parses as a JSON object or array.
 */
/** Where the answer may start and how many false starts are tried: keeps hostile text from costing more than a few scans. */
const MAX_LEAD = 64 * 1024;
const MAX_FALSE_STARTS = 16;

export function extractEmbeddedJson(text: string): unknown {
  const trimmed = text.trim();
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    // fall through: text around the JSON
  }
  let best: { value: unknown; length: number } | null = null;
  let falseStarts = 0;
  let i = 0;
  while (i < text.length) {
    if (falseStarts > MAX_FALSE_STARTS || (!best && i > MAX_LEAD)) break;
    const c = text.charCodeAt(i);
    if (c !== 0x7b /* { */ && c !== 0x5b /* [ */) {
      i++;
      continue;
    }
    const end = matchingClose(text, i);
    if (end !== -1) {
      try {
        const value = JSON.parse(text.slice(i, end + 1)) as unknown;
        if (!best || end + 1 - i > best.length) best = { value, length: end + 1 - i };
        i = end + 1; // anything nested inside is shorter
        continue;
      } catch {
        // a bracket in a notice that happens to balance: keep looking
      }
    }
    falseStarts++;
    i++;
  }
  if (!best) throw new SyntaxError('No JSON object or array in the answer');
  return best.value;
}

/** Index of the bracket closing the one at `start`, skipping JSON strings; -1 if it never closes. */
function matchingClose(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \\ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i;
      if (depth < 0) return -1;
    }
  }
  return -1;
}
