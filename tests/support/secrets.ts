import type { SecretStore } from '../../src/main/credentials/store';

/** A read-only secret store over fixed values, for building an upstream client without a station. */
export function fixedSecrets(values: Record<string, string>): SecretStore {
  return { get: (k) => values[k] ?? null, set() {}, delete() {}, names: () => Object.keys(values) };
}
