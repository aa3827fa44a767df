import { z } from 'zod';
import type { ExportedFile } from './bills';
import { channel } from './define';
import { id } from './fields';

export const tripPaperChannels = {
  'trips/manifest-pdf': channel<ExportedFile>()({
    request: z.strictObject({ tripId: id }),
    access: 'signed-in',
    summary:
      'An executed trip’s manifest as a PDF: stops in route order, driver, vehicle, times, items and each stop’s state manifest id as a barcode.',
  }),
  'trips/print-manifest': channel<{ printed: true }>()({
    request: z.strictObject({ tripId: id }),
    access: ['admin', 'dispatcher'],
    summary: 'Print an executed trip’s manifest on the station’s printer (desktop app only).',
  }),
};
