import { describe, expect, it } from 'vitest';
import type { TripExecutionView, TripStopManifest } from '../../src/shared/contract/trip-execution';
import type { TripStopView, TripView } from '../../src/shared/contract/trips';
import { code128Svg, cssString, escapeHtml, MANIFEST_PAGE_CSP, manifestPage, manifestTime } from '../../src/main/trips/manifest-page';

const HOSTILE = `<script>alert("x")</script>' onload='x`;
const T0 = Date.UTC(2026, 10, 26, 17, 0);

function stop(position: number, dispensary: string, extra: Partial<TripStopView> = {}): TripStopView {
  return {
    id: 100 + position,
    position,
    orderId: 5000 + position,
    invoice: `INV-${position}`,
    deliveryDate: '2026-11-27',
    dispensary,
    address: `${position} Main St, Yakima`,
    vendorLicense: `41230${position}`,
    departureAt: T0 + position * 3_600_000,
    arrivalAt: T0 + position * 3_600_000 + 1_800_000,
    route: `Route to stop ${position}`,
    lines: [{ id: 10 * position, product: `Product ${position}`, quantity: 2, unit: 'each', packed: 2, missing: 0 }],
    packs: [{ id: 20 * position, barcode: `20260000000000${String(position).padStart(2, '0')}`, quantity: 2, lineId: 10 * position, packedAt: T0 }],
    complete: true,
    ...extra,
  };
}

function trip(stops: TripStopView[], extra: Partial<TripView> = {}): TripView {
  return {
    id: 7,
    number: 'T-000007',
    name: 'Thursday north',
    status: 'done',
    executionStatus: 'completed',
    driverName: 'Dana Driver',
    driverEmployeeId: '001',
    vehicleName: 'Sprinter 2',
    vehicleId: 'V7',
    stopCount: stops.length,
    stopsPacked: stops.length,
    createdAt: T0,
    createdBy: 'dock1',
    updatedAt: T0,
    stops,
    ...extra,
  };
}

function execution(stops: TripStopManifest[]): TripExecutionView {
  return {
    tripId: 7,
    tripNumber: 'T-000007',
    status: 'completed',
    step: stops.length * 2,
    stopsTotal: stops.length,
    stopsDone: stops.length,
    message: null,
    attempts: 1,
    lastError: null,
    failedStop: null,
    stops,
    createdAt: T0,
    startedAt: T0,
    updatedAt: T0,
    finishedAt: T0,
  };
}

const created = (stopNumber: number, manifestId: string): TripStopManifest => ({ stopNumber, state: 'created', manifestId, error: null });
const page = (t: TripView, e: TripExecutionView) =>
  manifestPage({ trip: t, execution: e, location: '990010', stationName: 'Dock 1', printedAt: T0, timeZone: 'America/Los_Angeles' });

describe('the trip manifest page', () => {
  it('lists each stop in route order with its manifest id as text and as a Code 128 barcode', () => {
    // Stops given out of order: the page follows their positions.
    const t = trip([stop(2, 'Green Leaf'), stop(1, 'Harbor Wellness'), stop(3, 'Cascade Cannabis')]);
    const html = page(t, execution([created(1, '1111222233334444'), created(2, '5555666677778888'), created(3, '9999000011112222')]));
    const at = (s: string) => html.indexOf(s);
    expect(at('Harbor Wellness')).toBeGreaterThan(0);
    expect(at('Harbor Wellness')).toBeLessThan(at('Green Leaf'));
    expect(at('Green Leaf')).toBeLessThan(at('Cascade Cannabis'));
    expect(at('1111222233334444')).toBeLessThan(at('5555666677778888'));
    expect(html.match(/<svg class="barcode"/g)).toHaveLength(3);
    expect(html).toContain('Trip T-000007');
    expect(html).toContain('Dana Driver (BioTrack employee 001)');
    expect(html).toContain('Sprinter 2 (id V7)');
    expect(html).toContain('990010');
    expect(html).toContain('2026000000000001');
    expect(html).toContain(manifestTime(T0 + 3_600_000, 'America/Los_Angeles'));
    expect(manifestTime(T0 + 3_600_000, 'America/Los_Angeles')).toBe('Thu, Nov 26, 2026, 10:00 AM');
    expect(html).toContain(`content="${MANIFEST_PAGE_CSP.replace(/'/g, '&#39;')}"`);
    expect(html).toContain('size: Letter');
    expect(html).toContain(cssString(`Printed ${manifestTime(T0, 'America/Los_Angeles')} at Dock 1 · Trip T-000007`));
  });

  it('escapes hostile strings from upstream everywhere they appear', () => {
    const hostileStop = stop(1, HOSTILE, { address: HOSTILE, route: HOSTILE, vendorLicense: '"><img src=x>', invoice: HOSTILE });
    hostileStop.lines[0].product = HOSTILE;
    hostileStop.packs[0].barcode = '"><script>1</script>';
    const t = trip([hostileStop, stop(2, 'Plain')], { name: HOSTILE, driverName: HOSTILE, vehicleName: '<b>van</b>', number: 'T-1<i>' });
    const refused: TripStopManifest = { stopNumber: 2, state: 'refused', manifestId: null, error: `<script>steal()</script> "quoted"` };
    const html = manifestPage({
      trip: t,
      execution: execution([created(1, '</div><script>x</script>'), refused]),
      location: '<u>',
      stationName: `"; } </style><script>x</script>`,
      printedAt: T0,
    });
    expect(html.match(/<\/style>/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toContain('<b>van');
    expect(html).not.toContain('<i>');
    expect(html).not.toContain(`' onload='`);
    expect(html).toContain(escapeHtml(HOSTILE));
    expect(html).toContain('Refused: &#60;script&#62;steal()&#60;/script&#62; &#34;quoted&#34;');
    expect(cssString(`a"b\\</style>`)).toBe('"a\\22 b\\5c \\3c \\2f style\\3e "');
    expect(escapeHtml(`<a href="x" title='y'>&`)).toBe('&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;');
  });

  it('says why a stop has no manifest instead of drawing a barcode', () => {
    const t = trip([stop(1, 'One'), stop(2, 'Two'), stop(3, 'Three'), stop(4, 'Four')]);
    const html = page(
      t,
      execution([
        created(1, '1111222233334444'),
        { stopNumber: 2, state: 'voided', manifestId: '5555666677778888', error: null },
        { stopNumber: 3, state: 'refused', manifestId: null, error: 'Barcode 2026 was not found at this location. (code 602)' },
      ]),
    );
    expect(html.match(/<svg class="barcode"/g)).toHaveLength(1);
    expect(html).toContain('Voided');
    expect(html).not.toContain('5555666677778888');
    expect(html).toContain('Refused: Barcode 2026 was not found at this location. (code 602)');
    expect(html.indexOf('Four')).toBeLessThan(html.indexOf('No manifest yet', html.indexOf('Four')));
    expect(html).toContain('No manifest yet');
  });

  it('draws a barcode only for printable ASCII of sane length, as SVG paths', () => {
    const svg = code128Svg('1234567890123456');
    expect(svg).toMatch(/^<svg class="barcode"/);
    expect(svg).not.toMatch(/<script|<text/i);
    expect(code128Svg('')).toBeNull();
    expect(code128Svg('x'.repeat(49))).toBeNull();
    expect(code128Svg('12\n34')).toBeNull();
  });
});
