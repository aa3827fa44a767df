import bwipjs from 'bwip-js/node';
import type { TripExecutionView, TripStopManifest } from '../../shared/contract/trip-execution';
import type { TripStopView, TripView } from '../../shared/contract/trips';

export interface ManifestPageInput {
  trip: TripView;
  execution: TripExecutionView;
  /** This facility's BioTrack licence (the station settings); '' when not set. */
  location: string;
  stationName: string;
  /** When the page is made, for its "Printed" line. */
  printedAt: number;
  /** IANA time zone for every time on the page; the station's own by default. */
  timeZone?: string;
}

/**
 * The page fetches nothing and runs nothing: no scripts, fonts, images or links from anywhere.
 * The barcodes are inline SVG, so `img-src data:` is only a fallback for a future logo.
 */
export const MANIFEST_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** Every upstream string (dispensary names, routes, BioTrack's words) is hostile until escaped. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A time on the manifest, in the station's local time: "Thu, Nov 26, 2026, 10:12 AM". */
export function manifestTime(ms: number | null, timeZone?: string): string {
  if (ms === null || !Number.isFinite(ms)) return 'not set';
  return new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
  }).format(ms);
}

/** Code 128 as inline SVG; only printable ASCII of a sensible length is drawn (BioTrack's ids are 16 digits). */
export function code128Svg(text: string): string | null {
  if (!/^[\x20-\x7E]{1,48}$/.test(text)) return null;
  try {
    const svg = bwipjs.toSVG({ bcid: 'code128', text, scale: 2, height: 12, includetext: false, paddingwidth: 10 });
    // bwip-js draws paths only; the check keeps anything else (a future version's text or script) out of the page.
    return /<(script|foreignObject|image|a)\b/i.test(svg) ? null : svg.replace('<svg ', '<svg class="barcode" role="img" aria-hidden="true" ');
  } catch {
    return null;
  }
}

/** A CSS string literal: everything but plain letters, digits and a little punctuation as a hex escape, so no text ends the string or the style element. */
export function cssString(value: string): string {
  return `"${Array.from(value, (c) => (/^[A-Za-z0-9 ,.:()-]$/.test(c) ? c : `\\${c.codePointAt(0)!.toString(16)} `)).join('')}"`;
}

const quantity = (n: number) => String(Math.round(n * 1000) / 1000);

/** What the manifest box of a stop says: the id and its barcode, or why there is none. */
function manifestBox(m: TripStopManifest | undefined): string {
  if (m?.state === 'created' && m.manifestId) {
    const svg = code128Svg(m.manifestId);
    return `<div class="manifest"><div class="label">State manifest</div><div class="manifest-id">${escapeHtml(m.manifestId)}</div>${svg ?? ''}</div>`;
  }
  let words = 'No manifest yet';
  if (m?.state === 'voided') words = 'Voided';
  else if (m?.state === 'refused') words = `Refused: ${m.error ?? 'BioTrack gave no reason'}`;
  return `<div class="manifest none"><div class="label">State manifest</div><div class="no-manifest">${escapeHtml(words)}</div></div>`;
}

function itemRows(stop: TripStopView): string {
  if (!stop.packs.length) return '<tr><td colspan="4" class="muted">Nothing packed</td></tr>';
  return stop.packs
    .map((p) => {
      const line = p.lineId === null ? undefined : stop.lines.find((l) => l.id === p.lineId);
      return `<tr><td class="mono">${escapeHtml(p.barcode)}</td><td>${escapeHtml(line?.product ?? '—')}</td><td class="num">${escapeHtml(quantity(p.quantity))}</td><td>${escapeHtml(line?.unit ?? '')}</td></tr>`;
    })
    .join('');
}

function stopSection(stop: TripStopView, m: TripStopManifest | undefined, tz: string | undefined): string {
  return `<section class="stop">
<div class="stop-head">
<div class="stop-main">
<h2><span class="stop-number">Stop ${stop.position}</span> ${escapeHtml(stop.dispensary)}</h2>
<dl>
<dt>Address</dt><dd>${escapeHtml(stop.address || '—')}</dd>
<dt>Receiving licence</dt><dd class="mono">${escapeHtml(stop.vendorLicense || '—')}</dd>
<dt>Departure</dt><dd>${escapeHtml(manifestTime(stop.departureAt, tz))}</dd>
<dt>Arrival</dt><dd>${escapeHtml(manifestTime(stop.arrivalAt, tz))}</dd>
<dt>Route</dt><dd>${escapeHtml(stop.route || '—')}</dd>
${stop.invoice ? `<dt>Invoice</dt><dd>${escapeHtml(stop.invoice)}</dd>` : ''}
</dl>
</div>
${manifestBox(m)}
</div>
<table>
<thead><tr><th>Inventory id</th><th>Product</th><th class="num">Quantity</th><th>Unit</th></tr></thead>
<tbody>${itemRows(stop)}</tbody>
</table>
</section>`;
}

const STYLE = `
@page {
  size: Letter;
  margin: 0.6in 0.6in 0.8in 0.6in;
  @bottom-right { content: 'Page ' counter(page) ' of ' counter(pages); font: 11pt 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif; }
}
* { box-sizing: border-box; }
html { font-family: 'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif; font-size: 12pt; color: #000; background: #fff; }
body { margin: 0; line-height: 1.35; }
header.trip { border-bottom: 2pt solid #000; padding-bottom: 8pt; margin-bottom: 12pt; }
.trip-number { font-size: 30pt; font-weight: 700; margin: 0; letter-spacing: 0.5pt; }
.trip-name { font-size: 15pt; margin: 2pt 0 8pt; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2pt 10pt; margin: 0; }
dt { font-weight: 700; }
dd { margin: 0; overflow-wrap: anywhere; }
.stop { border: 1pt solid #000; padding: 10pt; margin-bottom: 12pt; break-inside: avoid; }
.stop-head { display: flex; gap: 12pt; justify-content: space-between; align-items: flex-start; }
.stop-main { flex: 1; min-width: 0; }
h2 { font-size: 16pt; margin: 0 0 6pt; overflow-wrap: anywhere; }
.stop-number { display: inline-block; border: 1.5pt solid #000; padding: 0 5pt; margin-right: 4pt; }
.manifest { width: 2.6in; text-align: center; }
.manifest .label { font-size: 11pt; font-weight: 700; }
.manifest-id { font-family: 'DejaVu Sans Mono', 'Liberation Mono', monospace; font-size: 14pt; font-weight: 700; letter-spacing: 1pt; }
.no-manifest { font-size: 13pt; font-weight: 700; border: 1.5pt dashed #000; padding: 8pt; overflow-wrap: anywhere; }
svg.barcode { width: 100%; height: 0.6in; display: block; margin-top: 4pt; }
table { width: 100%; border-collapse: collapse; margin-top: 8pt; font-size: 11pt; }
th, td { border-bottom: 0.75pt solid #000; padding: 3pt 4pt; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { border-bottom-width: 1.5pt; }
.num { text-align: right; }
.mono { font-family: 'DejaVu Sans Mono', 'Liberation Mono', monospace; }
.muted { font-style: italic; }
`;

/** The printed line at the foot of every page: a page margin box (Chromium 131+, Electron 34+), its text a CSS string. */
function footerStyle(text: string): string {
  return `@page { @bottom-left { content: ${cssString(text)}; font: 11pt 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif; width: 70%; } }`;
}

/**
 * One trip's manifest as a self-contained printable page (US Letter): the trip, driver, vehicle and
 * facility, then each stop in route order with its times, route, items and the state manifest id
 * as text and as a Code 128 barcode. Electron's printToPDF and headless Chromium both render it.
 */
export function manifestPage(input: ManifestPageInput): string {
  const { trip, execution, timeZone: tz } = input;
  const byStop = new Map(execution.stops.map((m) => [m.stopNumber, m]));
  const stops = [...trip.stops].sort((a, b) => a.position - b.position);
  const title = `Trip ${trip.number} manifest`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(MANIFEST_PAGE_CSP)}">
<title>${escapeHtml(title)}</title>
<style>${STYLE}${footerStyle(`Printed ${manifestTime(input.printedAt, tz)} at ${input.stationName} · Trip ${trip.number}`)}</style>
</head>
<body>
<header class="trip">
<h1 class="trip-number">Trip ${escapeHtml(trip.number)}</h1>
${trip.name ? `<p class="trip-name">${escapeHtml(trip.name)}</p>` : ''}
<dl>
<dt>Driver</dt><dd>${escapeHtml(trip.driverName || '—')} (BioTrack employee ${escapeHtml(trip.driverEmployeeId || '—')})</dd>
<dt>Vehicle</dt><dd>${escapeHtml(trip.vehicleName || '—')} (id ${escapeHtml(trip.vehicleId || '—')})</dd>
<dt>BioTrack location</dt><dd class="mono">${escapeHtml(input.location || 'not set')}</dd>
<dt>Stops</dt><dd>${stops.length}</dd>
</dl>
</header>
<main>
${stops.map((s) => stopSection(s, byStop.get(s.position), tz)).join('\n')}
</main>
</body>
</html>
`;
}
