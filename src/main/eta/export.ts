import { ETA_COLUMN_LABELS, ETA_COLUMNS, ETA_ERP_COLUMNS, type EtaColumn, type EtaOrder } from '../../shared/contract/eta';
import type { ExportSpec } from '../exports/write';

/** Text cells: ids and order numbers keep their form in a spreadsheet ("00123" stays "00123"). */
const TEXT: ReadonlySet<EtaColumn> = new Set(ETA_COLUMNS.filter((c) => c !== 'orderRev' && c !== 'qty'));
const WIDTH: Partial<Record<EtaColumn, number>> = { orderNo: 16, customer: 28, customerGroup: 24, supplier: 24, productionStatus: 20 };

/**
 * An ETA report as an export writes it. First the sensitive columns are scrubbed: each row is
 * taken as the ERP names its columns (OrderNo, Customer, … and anything else the ERP sent), and
 * every column on the list goes, whatever it is; then what is left is written in the fixed header
 * order of ETA_COLUMNS, nothing else. The revision is a number; every other id is text.
 */
export function etaExportTable(
  rows: (EtaOrder & { statusLabel: string } & Record<string, unknown>)[],
  sensitive: readonly string[],
): { columns: ExportSpec['columns']; rows: Record<string, unknown>[] } {
  const banned = new Set(sensitive.map((c) => c.toLowerCase()));
  const scrubbed = rows.map((r) => {
    const record: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(r)) {
      const erpName = (ETA_ERP_COLUMNS as Record<string, string>)[key] ?? key;
      if (banned.has(erpName.toLowerCase()) || banned.has(key.toLowerCase())) continue;
      record[key] = key === 'productionStatus' ? (r.productionStatus === null ? null : r.statusLabel) : value;
    }
    return record;
  });
  const columns = ETA_COLUMNS.filter((c) => !banned.has(ETA_ERP_COLUMNS[c].toLowerCase()) && !banned.has(c.toLowerCase())).map((c) => ({
    header: ETA_COLUMN_LABELS[c],
    key: c,
    text: TEXT.has(c),
    ...(c === 'orderNo' ? { id: true as const } : {}),
    width: WIDTH[c],
  }));
  return { columns, rows: scrubbed };
}
