// pino-roll ships no types: the part of its options Dockside uses (see its README).
declare module 'pino-roll' {
  import type SonicBoom from 'sonic-boom';
  import type { SonicBoomOpts } from 'sonic-boom';

  interface PinoRollOptions extends Omit<SonicBoomOpts, 'dest' | 'fd'> {
    /** Path without the number: `logs/dockside` becomes logs/dockside.1.log, .2.log, … */
    file: string;
    /** Rotate past this size: a number is MB, or a string such as '10m', '512k', '4096b'. */
    size?: string | number;
    frequency?: 'daily' | 'hourly' | number;
    extension?: string;
    symlink?: boolean;
    limit?: { count: number; removeOtherLogFiles?: boolean };
    dateFormat?: string;
  }

  export default function pinoRoll(options: PinoRollOptions): Promise<SonicBoom>;
}
