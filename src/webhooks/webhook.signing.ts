import { createHmac, randomBytes } from 'node:crypto';

/** A new signing secret: `whsec_` and the base64 of 32 random bytes (the spec's format). */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * The Standard Webhooks headers for one attempt: `webhook-id` (the event, the same on every
 * retry), `webhook-timestamp` (this attempt, in seconds) and `webhook-signature`, one
 * `v1,<base64 HMAC-SHA256 of id.timestamp.body>` per secret, space-separated, so a receiver
 * still holding the previous secret during a rotation verifies too.
 */
export function signatureHeaders(id: string, body: string, secrets: string[], at: Date): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => sign(secret, id, at, body)).join(' '),
  };
}

/**
 * One `v1` signature, as the specification defines it (its reference implementation, the
 * `standardwebhooks` package, verifies these in the tests): the HMAC-SHA256 of
 * `id.timestamp.body` keyed with the secret's base64-decoded bytes, in base64. Node's own HMAC:
 * the reference implementation's is JavaScript, several times slower.
 */
function sign(secret: string, id: string, at: Date, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${Math.floor(at.getTime() / 1000)}.${body}`).digest('base64')}`;
}
