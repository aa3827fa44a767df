/** Bytes of a file main sent: IPC carries JSON, so files travel as base64. */
export function fromBase64(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/**
 * Saves a file main produced as a download (Electron handles it as well as Chromium): a bill in
 * one piece, an export in its 1 MiB chunks, in order.
 */
export function saveFile(file: { fileName: string; mimeType: string }, parts: Uint8Array<ArrayBuffer>[]): void {
  const url = URL.createObjectURL(new Blob(parts, { type: file.mimeType }));
  const a = document.createElement('a');
  a.href = url;
  a.download = file.fileName;
  a.click();
  // The download has taken the bytes by then; the URL would otherwise hold them until the window closes.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
