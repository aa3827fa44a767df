import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Who signed in to send it. */
  user: string | null;
  envelopeTo: string[];
  parsed: ParsedMail;
}

/**
 * A real SMTP server on 127.0.0.1 (the `smtp-server` package, not ours) that wants a user name
 * and password, and keeps what it received. Plain, not STARTTLS: a self-signed certificate would
 * need the station to trust it, and TLS is nodemailer's to get right, not ours.
 */
export class TestSmtpServer {
  readonly received: ReceivedMail[] = [];
  /** Sign-in tries, right or wrong. */
  readonly logins: string[] = [];
  /** Runs after a mail's bytes arrived and before the server answers 250. */
  onMail: (() => void) | null = null;
  port = 0;
  #server: SMTPServer | null = null;
  readonly #waiters: (() => void)[] = [];

  constructor(
    readonly user = 'dockside',
    readonly password = 'mail-secret-1',
  ) {}

  async start(port = 0): Promise<number> {
    const server = new SMTPServer({
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth: (auth, _session, callback) => {
        this.logins.push(auth.username ?? '');
        if (auth.username === this.user && auth.password === this.password) return callback(null, { user: auth.username });
        const refused = Object.assign(new Error('Invalid username or password'), { responseCode: 535 });
        callback(refused);
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          simpleParser(Buffer.concat(chunks))
            .then((parsed) => {
              this.received.push({
                user: typeof session.user === 'string' ? session.user : null,
                envelopeTo: session.envelope.rcptTo.map((r) => r.address),
                parsed,
              });
              this.onMail?.();
              for (const w of this.#waiters.splice(0)) w();
              callback();
            })
            .catch((err: Error) => callback(err));
        });
      },
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Stops listening; the port is kept so `start(port)` brings the same server back. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once `count` mails have arrived. */
  async waitFor(count: number): Promise<void> {
    while (this.received.length < count) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}
