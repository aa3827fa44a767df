/**
 * What a test opened and must give back whether it passed or not: stations, simulators, hosts,
 * sockets, temp folders. Helpers register here as they open things; each test file runs
 * `afterEach(releaseAll)` (or `afterAll` for what `beforeAll` opened). No vitest import, so the
 * child-process scripts and benchmarks that share these helpers run without a test runner.
 */
const pending: (() => unknown)[] = [];

/** Runs `release` after the test, newest first: a station closes before its folder is deleted. */
export function onRelease(release: () => unknown): void {
  pending.push(release);
}

/** Releases everything registered so far; one failure does not keep the rest open. */
export async function releaseAll(): Promise<void> {
  const errors: unknown[] = [];
  for (const release of pending.splice(0).reverse()) {
    try {
      await release();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} test resources failed to close`);
}
