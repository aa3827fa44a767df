export const clock = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
/** A time later today, to the minute: "until 14:05". */
export const hourMinute = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
export const dateTime = (ms: number | null) => (ms === null ? '—' : new Date(ms).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }));
export const kg = (n: number) => `${n.toLocaleString(undefined, { maximumFractionDigits: 3 })} kg`;

/** Today's times without the date, other days with it: what was added this shift reads short. */
export const timeOrDateTime = (ms: number) =>
  new Date(ms).toDateString() === new Date().toDateString() ? new Date(ms).toLocaleTimeString([], { timeStyle: 'short' }) : dateTime(ms);

/** A date field's day (yyyy-mm-dd) as the first and last millisecond of that day, station time. */
export const dayStart = (day: string) => new Date(`${day}T00:00:00`).getTime();
export const dayEnd = (day: string) => new Date(`${day}T23:59:59.999`).getTime();

/** A size as people read it on a disk: "512 B", "12 KB", "340 MB", "1.2 GB" (1 KB = 1024 bytes). */
export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const shown = i === 0 || v >= 10 ? Math.round(v).toString() : v.toFixed(1);
  return `${shown} ${units[i]}`;
}
