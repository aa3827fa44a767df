import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { onRelease } from './cleanup';
import { Inbox } from './inbox';

/** A site hub in its own Node process (`src/hub/main.ts`, as `npm run hub` runs it) on port 0. */
export interface HubProcess {
  url: string;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
  closed: Promise<void>;
}

export async function startHubProcess(databaseUrl: string): Promise<HubProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/hub/main.ts', '--port', '0'], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = new Inbox<string>();
  readline.createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  onRelease(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return closed;
  });
  const exited = closed.then(() => {
    throw new Error(`the hub exited (${child.exitCode ?? child.signalCode}) before listening:\n${lines.items.join('\n')}\n${stderr}`);
  });
  exited.catch(() => {});
  const line = await Promise.race([lines.first((l) => l.startsWith('hub listening on ')), exited]);
  return { url: line.slice('hub listening on '.length).trim(), stderr: () => stderr, kill: (s) => child.kill(s), closed };
}

/** A tiny client for the hub's API, as a station would call it. */
export function hubClient(url: string, token?: string) {
  const call = async (method: string, path: string, body?: unknown, bearer = token) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  return {
    token,
    call,
    enrol: (code: string, stationName: string) => call('POST', '/v1/enrol', { code, stationName }),
    push: (ops: unknown[]) => call('POST', '/v1/ops', { ops }),
    feed: (since: number, limit?: number) => call('GET', `/v1/feed?since=${since}${limit ? `&limit=${limit}` : ''}`),
  };
}
