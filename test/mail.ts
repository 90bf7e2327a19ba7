import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A message as the downstream MTA received it: the envelope and the parsed message. */
export interface Received {
  to: string[];
  mail: ParsedMail;
  raw: string;
}

/**
 * A real SMTP server on loopback standing in for the mail relay helpdesk sends through. It can
 * be stopped and started again on the same port (an outage), and refuse some recipients (550).
 */
export class TestMta {
  readonly received: Received[] = [];
  port = 0;
  private server: SMTPServer | undefined;

  constructor(private readonly refuse: (recipient: string) => boolean = () => false) {}

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      disableReverseLookup: true,
      logger: false,
      onRcptTo: (address, _session, callback) =>
        this.refuse(address.address) ? callback(Object.assign(new Error('No such user'), { responseCode: 550 })) : callback(),
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw).then((mail) => {
            this.received.push({ to: session.envelope.rcptTo.map((r) => r.address), mail, raw: raw.toString('utf8') });
            callback();
          }, callback);
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The messages received for one recipient. */
  to(recipient: string): Received[] {
    return this.received.filter((r) => r.to.includes(recipient));
  }
}

/** A logger that keeps what it is told. */
export function memoryLog(): { lines: Array<{ message: string } & object>; info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void } {
  const lines: Array<{ message: string } & object> = [];
  const keep = (object: object, message: string) => void lines.push({ ...object, message });
  return { lines, info: keep, warn: keep, error: keep };
}
