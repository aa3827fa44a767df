import { z } from 'zod';

/**
 * Builds, from a request schema alone, one valid payload and a list of payloads each broken in
 * one way (wrong type, out of bounds, pattern, enum, missing, unknown key, wrong root type).
 * Works on the JSON Schema zod derives, so a new channel or field is covered without a test edit.
 */
interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  examples?: unknown[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
}

export interface MalformedCase {
  label: string;
  payload: unknown;
}

export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as JsonSchema;
}

export function validValue(s: JsonSchema, where: string): unknown {
  if (s.examples?.length) return s.examples[0];
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'string':
      if (s.pattern) throw new Error(`${where}: a pattern field needs .meta({ examples }) in the contract`);
      return 'x'.repeat(Math.max(1, s.minLength ?? 1));
    case 'integer':
    case 'number':
      return s.minimum ?? (s.exclusiveMinimum !== undefined ? Math.floor(s.exclusiveMinimum) + 1 : 1);
    case 'boolean':
      return true;
    case 'object':
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, validValue(v, `${where}.${k}`)]));
    case 'array':
      return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => validValue(s.items ?? {}, `${where}[]`));
    default:
      throw new Error(`${where}: no valid value for schema type ${s.type}`);
  }
}

function brokenValues(s: JsonSchema): MalformedCase[] {
  const out: MalformedCase[] = [];
  const wrongTypes: Record<string, unknown[]> = {
    string: [12345, null, true, {}, ['x']],
    integer: ['1', null, true, {}, [1]],
    number: ['1', null, true, {}, [1]],
    boolean: ['true', 1, null, {}],
    array: ['list', 1, null, {}],
    object: ['object', 1, null, []],
  };
  for (const v of wrongTypes[s.type ?? ''] ?? []) out.push({ label: `type ${JSON.stringify(v)}`, payload: v });
  if (s.type === 'string') {
    if ((s.minLength ?? 0) > 0) out.push({ label: 'too short', payload: 'x'.repeat(s.minLength! - 1) });
    if (s.maxLength !== undefined) out.push({ label: 'too long', payload: 'x'.repeat(s.maxLength + 1) });
    if (s.maxLength === undefined && !s.enum) out.push({ label: 'huge', payload: 'x'.repeat(100_000) });
    if (s.pattern) {
      for (const bad of ['!! not valid !!', 'white space', '\u0000']) {
        if (!new RegExp(s.pattern).test(bad)) {
          out.push({ label: `pattern ${JSON.stringify(bad)}`, payload: bad });
          break;
        }
      }
    }
    if (s.enum) out.push({ label: 'not in enum', payload: 'not-a-listed-value' });
  }
  if (s.type === 'integer' || s.type === 'number') {
    if (s.minimum !== undefined) out.push({ label: 'below minimum', payload: s.minimum - 1 });
    if (s.exclusiveMinimum !== undefined) out.push({ label: 'at exclusive minimum', payload: s.exclusiveMinimum });
    if (s.maximum !== undefined) out.push({ label: 'above maximum', payload: s.maximum + 1 });
    if (s.type === 'integer') out.push({ label: 'fraction', payload: (s.minimum ?? 1) + 0.5 });
    out.push({ label: 'unsafe integer', payload: Number.MAX_SAFE_INTEGER * 4 });
  }
  if (s.type === 'array') {
    const item = validValue(s.items ?? {}, 'item');
    if ((s.minItems ?? 0) > 0) out.push({ label: 'too few items', payload: [] });
    if (s.maxItems !== undefined) out.push({ label: 'too many items', payload: Array.from({ length: s.maxItems + 1 }, () => item) });
    for (const c of brokenValues(s.items ?? {})) out.push({ label: `item ${c.label}`, payload: [c.payload] });
  }
  if (s.type === 'object' && s.properties) {
    const valid = validValue(s, 'object') as Record<string, unknown>;
    for (const [key, prop] of Object.entries(s.properties)) {
      if (s.required?.includes(key)) {
        const { [key]: _dropped, ...rest } = valid;
        out.push({ label: `missing .${key}`, payload: rest });
      }
      for (const c of brokenValues(prop)) out.push({ label: `.${key} ${c.label}`, payload: { ...valid, [key]: c.payload } });
    }
    if (s.additionalProperties === false) out.push({ label: 'unknown nested key', payload: { ...valid, unexpected: 1 } });
  }
  return out;
}

export function malformedPayloads(schema: z.ZodType): { valid: unknown; cases: MalformedCase[] } {
  const js = jsonSchemaOf(schema);
  if (js.type !== 'object') throw new Error('every request is an object');
  const valid = validValue(js, 'request') as Record<string, unknown>;
  const cases: MalformedCase[] = [undefined, null, 0, 'payload', true, [], [valid]].map((payload) => ({
    label: `root ${JSON.stringify(payload) ?? 'undefined'}`,
    payload,
  }));
  for (const [key, prop] of Object.entries(js.properties ?? {})) {
    if (js.required?.includes(key)) {
      const { [key]: _dropped, ...rest } = valid;
      cases.push({ label: `missing ${key}`, payload: rest });
    }
    for (const c of brokenValues(prop)) cases.push({ label: `${key}: ${c.label}`, payload: { ...valid, [key]: c.payload } });
  }
  if (js.additionalProperties === false) {
    cases.push({ label: 'unknown key', payload: { ...valid, unexpected: 1 } });
    cases.push({ label: 'unknown key constructor', payload: { ...valid, constructor: 'x' } });
  }
  return { valid, cases };
}
