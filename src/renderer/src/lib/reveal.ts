/**
 * Brings an element that has just appeared into view, for an action whose answer shows far down a
 * long screen (an edit form under the People table, the finalize question under a bill's parents):
 * at 1366×768 it would appear below the fold and the press would seem to do nothing.
 * Use as `{@attach reveal}`.
 */
export function reveal(node: Element): void {
  node.scrollIntoView({ block: 'nearest' });
}

/** `{@attach revealWhen(key)}`: as `reveal`, and again whenever `key` changes (another row opened into the same form). */
export function revealWhen(key: unknown): (node: Element) => void {
  void key;
  return (node) => reveal(node);
}
