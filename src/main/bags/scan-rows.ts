import type { ScanResult, ScanRow, ScanSource } from '../../shared/contract/bags';

/** A row of the scan log as the screens show it: the dock door's recent scans and a bag's history. */
export interface RawScanRow {
  id: number;
  at: number;
  code: string | null;
  raw: string;
  result: string;
  message: string;
  source: ScanSource;
  parent_code: string | null;
  username: string | null;
  undone_at: number | null;
}

export function toScanRow(r: RawScanRow): ScanRow {
  return {
    id: r.id,
    at: r.at,
    code: r.code,
    raw: r.raw,
    result: r.undone_at ? 'undone' : (r.result as ScanResult),
    message: r.message,
    source: r.source,
    parentCode: r.parent_code,
    username: r.username,
  };
}

export const SCAN_SELECT = `
  SELECT s.id, s.at, s.code, s.raw, s.result, s.message, s.source, s.undone_at, p.code AS parent_code, u.username
  FROM scans s LEFT JOIN bags p ON p.id = s.parent_id LEFT JOIN users u ON u.id = s.user_id`;
