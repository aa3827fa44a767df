import { describe, expect, it } from 'vitest';
import { extractEmbeddedJson } from '../../src/main/upstreams/embedded-json';

const answer = { success: 1, data: [{ barcode_id: '2024058110000001', test: [{ type: 2, THC: '18.876' }] }, false] };
const json = JSON.stringify(answer, null, 4);

describe('extractEmbeddedJson', () => {
  it('reads plain JSON and JSON with whitespace', () => {
    expect(extractEmbeddedJson(json)).toEqual(answer);
    expect(extractEmbeddedJson(`\n\n  ${json}\n`)).toEqual(answer);
  });

  it('finds the answer between PHP notices that contain brackets and braces', () => {
    const before = '<br />\n<b>Notice</b>:  Array to string conversion in <b>main.php</b> on line <b>9</b> [x] {closure}<br />\n';
    const after = '<br />\n<b>Warning</b>:  Undefined index: {sessionid} in [main.php]<br />\n';
    expect(extractEmbeddedJson(before + json + after)).toEqual(answer);
    expect(extractEmbeddedJson(`X-Powered-By: ASP.NET\r\n\r\n${json}`)).toEqual(answer);
  });

  it('takes the longest JSON value, not the first bracket that happens to parse', () => {
    expect(extractEmbeddedJson(`Notice: [] and {} in lib.php ${json} trailing [1]`)).toEqual(answer);
  });

  it('keeps brackets inside JSON strings from confusing the scan', () => {
    const tricky = { success: 0, error: 'Barcode [123] has {braces} and "quotes"' };
    expect(extractEmbeddedJson(`<b>Notice</b> ${JSON.stringify(tricky)} <br />`)).toEqual(tricky);
  });

  it('refuses text with no JSON, and a cut-off answer', () => {
    expect(() => extractEmbeddedJson('<html>Service Unavailable</html>')).toThrow(SyntaxError);
    expect(() => extractEmbeddedJson('{"success": 1, "data": [')).toThrow(SyntaxError);
  });

  it('gives up quickly on hostile text made of unbalanced brackets', () => {
    const hostile = '['.repeat(200_000) + 'x';
    expect(() => extractEmbeddedJson(hostile)).toThrow(SyntaxError);
  });
});
