import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliEnv, devToken, startServer, type ServerProcess } from './processes.js';

let dir: string;
let server: ServerProcess | undefined;
afterEach(async () => {
  server?.child.kill('SIGKILL');
  server = undefined;
  await fs.rm(dir, { recursive: true, force: true });
});

/** Sends a request whose body arrives in two halves, and resolves with the raw response. */
function slowPost(url: URL, path: string, token: string, body: string) {
  const socket = net.connect(Number(url.port), url.hostname);
  let response = '';
  socket.on('data', (chunk) => (response += chunk.toString()));
  const done = new Promise<string>((resolve) => socket.on('close', () => resolve(response)));
  const head = `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  const half = Math.floor(body.length / 2);
  const sentHalf = new Promise<void>((resolve) => socket.write(head + body.slice(0, half), () => resolve()));
  // The rest is written, not ended: a client that half-closes its side before the answer
  // (which no HTTP client does) has its request aborted by Node, shutdown or not.
  return { sentHalf, finish: () => socket.write(body.slice(half)), done };
}

describe('graceful shutdown', () => {
  it('finishes in-flight requests after SIGTERM, refuses new connections, and exits promptly', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helpdesk-shutdown-'));
    const env = cliEnv({ HELPDESK_DATA_DIR: dir });
    server = await startServer(env);
    const url = new URL(server.url);
    const token = await devToken(env, { id: 'user_1', email: 'one@example.test' });

    const inFlight = Array.from({ length: 5 }, (_, i) =>
      slowPost(url, '/api/v1/support/tickets', token, JSON.stringify({ title: `in flight ${i}`, description: 'd'.repeat(5000), type: 'bug' })),
    );
    await Promise.all(inFlight.map((r) => r.sentHalf));
    // Give the server a moment to read the headers: from then on each request is in flight.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    const exited = server.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));

    // The listener is closed: a new connection is refused outright.
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(url.port), url.hostname);
      socket.on('connect', () => resolve('connected'));
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');

    // The half-sent requests still complete.
    inFlight.forEach((r) => r.finish());
    const responses = await Promise.all(inFlight.map((r) => r.done));
    for (const response of responses) expect(response).toMatch(/^HTTP\/1\.1 201 Created/);

    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    server = undefined;
  });
});
