export const clock = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
export const dateTime = (ms: number | null) => (ms === null ? '—' : new Date(ms).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }));
export const kg = (n: number) => `${n.toLocaleString(undefined, { maximumFractionDigits: 3 })} kg`;
