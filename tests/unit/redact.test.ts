import { describe, expect, it } from 'vitest';
import { REDACTED, secretRedactor, withoutSecretFields } from '../../src/main/diagnostics/redact';

describe('redaction for the diagnostics zip', () => {
  const redact = secretRedactor(['s3cret-Value!', 'abc']);

  it('removes known secret values in their plain, JSON, URL-encoded and base64 spellings', () => {
    const value = 's3cret-Value!';
    for (const spelling of [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), Buffer.from(value).toString('base64')])
      expect(redact(`before ${spelling} after`)).toBe(`before ${REDACTED} after`);
  });

  it('removes secrets by their shape, whatever their value', () => {
    expect(redact('{"password":"hunter22","user":"dock1"}')).toBe(`{"password":"${REDACTED}","user":"dock1"}`);
    expect(redact('{"erpPassword":"x\\"y","hubToken":"t"}')).toBe(`{"erpPassword":"${REDACTED}","hubToken":"${REDACTED}"}`);
    expect(redact('Authorization: Bearer eyJhbGciOi.x.y')).toBe(`Authorization: ${REDACTED}`);
    expect(redact('"authorization":"Basic ZG9jazpwdw=="')).toBe(`"authorization":"${REDACTED}"`);
    expect(redact('Cookie: sid=123; theme=dark')).toBe(`Cookie: ${REDACTED}`);
    expect(redact('otpauth://totp/Dockside:boss?secret=JBSWY3DPEHPK3PXP')).toBe(`otpauth://${REDACTED}`);
    expect(redact('smtp://mailer:pw99@mail.example:587')).toBe(`smtp://${REDACTED}@mail.example:587`);
    expect(redact('GET /login?user=a&password=pw&x=1')).toBe(`GET /login?user=a&password=${REDACTED}&x=1`);
    expect(redact('joined with code kq7m-xr4p-2htn today')).toBe(`joined with code ${REDACTED} today`);
    expect(redact('key JBSWY3DPEHPK3PXP')).toBe(`key ${REDACTED}`);
  });

  it('leaves ordinary text alone: bag ids, station ids, short values', () => {
    const line = '{"station":"550e8400-e29b-41d4-a716-446655440000","code":"SB12345","child":"M444-12345","n":"abc"}';
    expect(redact(line)).toBe(line);
  });

  it('replaces fields named like secrets at any depth, keeping yes/no fields', () => {
    expect(withoutSecretFields({ mail: { host: 'h', password: 'p' }, list: [{ token: 't' }], hasPassword: true, pinHash: null })).toEqual({
      mail: { host: 'h', password: REDACTED },
      list: [{ token: REDACTED }],
      hasPassword: true,
      pinHash: null,
    });
  });
});
