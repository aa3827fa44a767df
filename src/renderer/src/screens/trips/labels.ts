import type { TripStatus } from '../../../../shared/contract/trips';

export const STATUS_LABEL: Record<TripStatus, string> = {
  draft: 'Draft',
  executing: 'Executing',
  done: 'Done',
  failed: 'Failed',
};

/** A datetime-local field's value (station time, to the minute) for ms since the epoch, and back. */
export function toLocalInput(ms: number | null): string {
  if (ms === null) return '';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value: string): number | null {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : null;
}

/** Quantities as people read them: at most 3 decimals, no trailing zeros. */
export const amount = (n: number) => n.toLocaleString(undefined, { maximumFractionDigits: 3 });
