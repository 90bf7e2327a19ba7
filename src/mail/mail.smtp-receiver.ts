import fs from 'node:fs';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { MalformedMail, receiveMail, type InboundContext } from './mail.inbound.js';

const MAX_CLIENTS = 50;

interface Logger {
  info(object: object, message: string): void;
  error(object: object, message: string): void;
}

/** An SMTP error: smtp-server answers with its code. */
function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/**
 * The built-in SMTP receiver a self-hosted MTA relays replies to: no AUTH, recipients only on
 * the reply domain (and the addresses HELPDESK_MAIL_INBOUND_TENANTS names), a size limit (announced in EHLO and enforced while reading), a cap on
 * connections, STARTTLS when a key and certificate are configured.
 */
export function createSmtpReceiver(context: InboundContext, options: { tls?: { key: string; cert: string } | undefined }, log: Logger): SMTPServer {
  const { config } = context;
  const tls = options.tls ? { key: fs.readFileSync(options.tls.key), cert: fs.readFileSync(options.tls.cert) } : {};
  return new SMTPServer({
    name: config.replyDomain,
    banner: 'helpdesk',
    size: config.maxMessageBytes,
    maxClients: MAX_CLIENTS,
    authOptional: true,
    disabledCommands: options.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...tls,
    socketTimeout: 60_000,
    // The client's host name is not used: no DNS query per connection.
    disableReverseLookup: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      const recipient = address.address.toLowerCase();
      if (!recipient.endsWith(`@${config.replyDomain}`) && !config.inboundTenants.has(recipient)) return callback(smtpError(550, 'No such recipient here'));
      callback();
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        // Past the limit the rest is read and dropped: the connection stays usable.
        if (!stream.sizeExceeded) chunks.push(chunk);
      });
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(smtpError(552, `Message exceeds the fixed maximum message size of ${config.maxMessageBytes} bytes`));
        const envelope = session.envelope.rcptTo.map((r) => r.address);
        receiveMail(context, Buffer.concat(chunks), 'smtp', envelope).then(
          (result) => {
            log.info({ via: 'smtp', outcome: result.outcome, reason: result.reason, ticket_id: result.ticketId }, 'mail received');
            callback(null, `Received: ${result.outcome}`);
          },
          (error: unknown) => {
            if (error instanceof MalformedMail) return callback(smtpError(550, error.message));
            log.error({ err: error }, 'receiving mail failed');
            callback(smtpError(451, 'Temporary failure, try again later'));
          },
        );
      });
    },
  });
}
