import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { onRelease } from './cleanup';
import { Inbox } from './inbox';

/** A TypeScript script run in its own Node process (a second station, a process to kill). */
export interface ScriptProcess {
  /** The first stdout line `match` accepts; rejects, with everything the process wrote, if it exits first. */
  line(match: (line: string) => boolean): Promise<string>;
  /** Writes a line to its stdin. */
  send(line: string): void;
  /** Every stdout line so far. */
  lines: string[];
  /** Resolves when the process has exited and its output is read. */
  closed: Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

export function runScript(file: string, args: string[]): ScriptProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout = new Inbox<string>();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  readline.createInterface({ input: child.stdout }).on('line', (l) => stdout.push(l));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exited = closed.then(() => {
    throw new Error(`${file} exited (${child.exitCode ?? child.signalCode}) first:\n${stdout.items.join('\n')}\n${stderr}`);
  });
  exited.catch(() => {}); // only a waiting line() reports it
  onRelease(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return closed;
  });
  return {
    line: (match) => Promise.race([stdout.first(match), exited]),
    send: (line) => child.stdin.write(`${line}\n`),
    lines: stdout.items,
    closed,
    kill: (signal) => child.kill(signal),
  };
}
