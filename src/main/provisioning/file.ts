import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  describeProvisioningIssues,
  PROVISIONING_FILE_NAME,
  provisioningFileSchema,
  type ProvisioningFile,
} from '../../shared/contract/provisioning';

/** A provisioning file as read from disk: valid (with its hash), or why not, each line naming the field. */
export type ProvisioningRead = { ok: true; path: string; hash: string; file: ProvisioningFile } | { ok: false; path: string; messages: string[] };

/**
 * Where a station looks for its provisioning file: `--provision FILE` if given (then only there),
 * else dockside.provision.json in each folder in turn (the executable's folder, the AppImage's
 * folder, the data folder for the browser host). The first that exists wins.
 */
export function findProvisioningFile(
  opts: { explicit?: string | null; folders: (string | null | undefined)[] },
  exists: (p: string) => boolean = fs.existsSync,
): string | null {
  if (opts.explicit) return path.resolve(opts.explicit);
  for (const folder of opts.folders) {
    if (!folder) continue;
    const candidate = path.join(folder, PROVISIONING_FILE_NAME);
    if (exists(candidate)) return candidate;
  }
  return null;
}

/**
 * The Electron app's folders for the file, in order: next to the AppImage file (its executable sits
 * in a temporary mount), next to the executable, then the machine's configuration folder. The
 * last survives updates: the Windows installer replaces the whole program folder on each update.
 */
export function provisioningFolders(opts: {
  exePath: string;
  appImage?: string | undefined;
  platform: NodeJS.Platform;
  programData?: string | undefined;
}): string[] {
  const machine =
    opts.platform === 'win32'
      ? path.win32.join(opts.programData ?? 'C:\\ProgramData', 'Dockside')
      : opts.platform === 'darwin'
        ? '/Library/Application Support/Dockside'
        : '/etc/dockside';
  return [opts.appImage ? path.dirname(opts.appImage) : null, path.dirname(opts.exePath), machine].filter((f): f is string => f !== null);
}

/** Reads and validates one file. Never throws: a missing, unreadable or invalid file is a message. */
export function readProvisioningFile(file: string): ProvisioningRead {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      ok: false,
      path: file,
      messages: [code === 'ENOENT' ? `the file: ${file} does not exist` : `the file: could not be read (${code ?? String(err)})`],
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));
  } catch {
    // Not the parser's message: it quotes the text around the fault, which may be a secret.
    return { ok: false, path: file, messages: ['the file: is not valid JSON (check its quotes, commas and braces)'] };
  }
  const parsed = provisioningFileSchema.safeParse(json);
  if (!parsed.success) return { ok: false, path: file, messages: describeProvisioningIssues(parsed.error, json) };
  return { ok: true, path: file, hash: createHash('sha256').update(bytes).digest('hex'), file: parsed.data };
}
