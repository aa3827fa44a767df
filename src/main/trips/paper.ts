import type { ExportedFile } from '../../shared/contract/bills';
import { DomainError } from '../../shared/envelope';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import type { SettingsService } from '../settings/service';
import type { RenderPdf } from './chromium-pdf';
import type { TripExecutor } from './execution';
import { manifestPage } from './manifest-page';
import type { TripService } from './service';

export type { RenderPdf } from './chromium-pdf';

/** Prints one page on a printer by its system name ('' = the system's default). Only the desktop app has one. */
export type PrintHtml = (html: string, deviceName: string) => Promise<void>;

export interface TripPaperDeps {
  db: Db;
  audit: AuditContext;
  now: () => number;
  trips: TripService;
  executor: TripExecutor;
  settings: SettingsService;
  renderPdf: RenderPdf;
  /** Absent in the browser host: there the PDF is downloaded and printed from the browser. */
  print?: PrintHtml;
  /** IANA zone for the page's times; the station's own by default. */
  timeZone?: string;
}

/** "20261126-0812" in the zone the page's times use. */
export function fileStamp(ms: number, timeZone?: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}${parts.month}${parts.day}-${parts.hour}${parts.minute}`;
}

/** A trip's manifest on paper: the page, as a PDF to download or printed on the station's printer. */
export class TripPaper {
  constructor(private readonly deps: TripPaperDeps) {}

  /** The printable page of an executed trip; a trip never executed has no manifest ids to print. */
  page(tripId: number): { html: string; tripNumber: string } {
    const trip = this.deps.trips.view(tripId);
    const execution = this.deps.executor.view(tripId);
    if (!execution)
      throw new DomainError(
        'conflict',
        `Execute the trip first: the manifest carries BioTrack's manifest ids (trip ${trip.number} has not been executed)`,
      );
    const settings = this.deps.settings.get();
    const html = manifestPage({
      trip,
      execution,
      location: settings.biotrackLocation,
      stationName: settings.stationName,
      printedAt: this.deps.now(),
      timeZone: this.deps.timeZone,
    });
    return { html, tripNumber: trip.number };
  }

  async pdf(tripId: number): Promise<ExportedFile> {
    const { html, tripNumber } = this.page(tripId);
    const pdf = await this.deps.renderPdf(html);
    const safeNumber = tripNumber.replace(/[^A-Za-z0-9-]+/g, '_');
    return {
      fileName: `trip-${safeNumber}-manifest-${fileStamp(this.deps.now(), this.deps.timeZone)}.pdf`,
      mimeType: 'application/pdf',
      base64: pdf.toString('base64'),
    };
  }

  async print(tripId: number, actor: AuditActor): Promise<{ printed: true }> {
    if (!this.deps.print) throw new DomainError('unavailable', 'Printing needs the desktop app; download the PDF here and print it');
    const { html, tripNumber } = this.page(tripId);
    const printer = this.deps.settings.get().printer;
    try {
      await this.deps.print(html, printer);
    } catch (error) {
      if (error instanceof DomainError) throw error;
      const why = error instanceof Error ? error.message : String(error);
      throw new DomainError('unavailable', `The manifest could not be printed on ${printer || 'the default printer'}: ${why}`);
    }
    recordAudit(this.deps.db, this.deps.audit, actor, {
      action: 'trips.manifest_printed',
      entity: 'trip',
      entityId: tripNumber,
      detail: printer || 'default printer',
    });
    return { printed: true };
  }
}
