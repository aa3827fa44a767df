/**
 * Redaction for the support zip: every text that leaves the station goes through one of these.
 * Two nets: the values the station knows are secret (its secret store, people's opened TOTP
 * secrets), in the spellings they take in text (plain, JSON-escaped, URL-encoded, base64); and
 * the shapes secrets have whatever their value (a password field, an Authorization or Cookie
 * header, an otpauth:// link, credentials in a URL, an enrolment code, a base32 TOTP secret).
 */

export const REDACTED = '[redacted]';

/** Names of fields whose values are secret, in any case, at the end of a longer name too (erpPassword, hub.token). */
const SECRET_FIELD = String.raw`[\w.-]*?(?:password|passwd|secret|token|pin|pinhash|authorization|cookie|apikey|api_key|license|credential|totp\w*|enrol\w*code|enroll\w*code|recovery\w*)`;
export const SECRET_NAME = new RegExp(`^${SECRET_FIELD}$`, 'i');

const SHAPES: [RegExp, string][] = [
  // "password": "…" in JSON lines (a log line, an audit snapshot, a setting)
  [new RegExp(`("${SECRET_FIELD}"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi'), `$1"${REDACTED}"`],
  // Authorization: Bearer …, Authorization: Basic …
  [/\b((?:proxy-)?authorization\b["']?\s*[:=]\s*["']?)(?:(?:bearer|basic|digest|token)\s+)?[^\s"',;]+/gi, `$1${REDACTED}`],
  // Cookie: a=b; c=d and Set-Cookie: …
  [/\b((?:set-)?cookie\b["']?\s*[:=]\s*["']?)[^"'\r\n]*/gi, `$1${REDACTED}`],
  // otpauth://totp/Dockside:boss?secret=…
  [/otpauth:\/\/[^\s"'<>]*/gi, `otpauth://${REDACTED}`],
  // https://user:password@host
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/:@"']+:[^\s/@"']+@/gi, `$1${REDACTED}@`],
  // ?token=…&password=…
  [/([?&;](?:password|passwd|secret|token|access_token|code|key|apikey|api_key|pin)=)[^&\s"'#]+/gi, `$1${REDACTED}`],
  // A hub enrolment code: 12 characters in three groups of four (hub/enrolment.ts)
  [/(?<![\w-])[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}(?![\w-])/gi, REDACTED],
  // A TOTP secret: 16 or more base32 characters (upper case, as authenticator keys are written)
  [/\b[A-Z2-7]{16,}\b/g, REDACTED],
];

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The spellings a secret value takes in logs and JSON. */
function spellings(value: string): string[] {
  return [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), Buffer.from(value).toString('base64')];
}

/**
 * A function that redacts text. `known`: the secret values this station holds; values shorter than
 * 4 characters are left to the shapes (redacting every "a" would leave nothing to read).
 */
export function secretRedactor(known: readonly string[]): (text: string) => string {
  const values = [...new Set(known.filter((v) => v.length >= 4).flatMap(spellings))].sort((a, b) => b.length - a.length);
  const knownPattern = values.length ? new RegExp(values.map(escapeRegExp).join('|'), 'g') : null;
  return (text) => {
    let out = knownPattern ? text.replace(knownPattern, REDACTED) : text;
    for (const [pattern, replacement] of SHAPES) out = out.replace(pattern, replacement);
    return out;
  };
}

/**
 * A copy of a JSON value with every field named like a secret replaced, at any depth. A yes/no
 * or empty field (hasPassword: true) says whether there is a secret, not what it is: kept.
 */
export function withoutSecretFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecretFields);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_NAME.test(k) && typeof v !== 'boolean' && v !== null ? REDACTED : withoutSecretFields(v)]),
    );
  return value;
}
