import fs from 'node:fs';

/** The bags file the import benches read: Parent Bag and Child Bag columns, `children` a parent, written as a stream. */
export async function writeBagCsv(file: string, rows: number, children = 30): Promise<void> {
  const out = fs.createWriteStream(file);
  out.write('Parent Bag,Child Bag\r\n');
  let buf = '';
  for (let i = 0; i < rows; i++) {
    buf += `SB${String(Math.floor(i / children)).padStart(5, '0')},C${String(i).padStart(9, '0')}\r\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  out.end(buf);
  await new Promise<void>((r) => out.once('close', () => r()));
}
