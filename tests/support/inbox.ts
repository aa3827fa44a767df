/**
 * What a window or socket received, in order, and a way to wait for one of it: tests wait on the
 * event they mean instead of sleeping and hoping it came.
 */
export class Inbox<T> {
  readonly items: T[] = [];
  readonly #waiting = new Set<(item: T) => void>();

  push(item: T): void {
    this.items.push(item);
    for (const notify of [...this.#waiting]) notify(item);
  }

  /** The first item, already received or still to come, that `match` accepts. */
  first(match: (item: T) => boolean): Promise<T> {
    const seen = this.items.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const notify = (item: T) => {
        if (!match(item)) return;
        this.#waiting.delete(notify);
        resolve(item);
      };
      this.#waiting.add(notify);
    });
  }
}
