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

/**
 * Sends a request whose body arrives in two halves, and resolves with the raw response.
 * `inFlight` resolves once the server has read the request's head: it asks with `Expect:
 * 100-continue`, and Node answers `100 Continue` as it hands the request to the app. Waiting
 * a fixed time for that instead failed on a loaded machine, where a SIGTERM handled before the
 * server had read the bytes found a connection that, to the server, had no request on it yet.
 */
function slowPost(url: URL, path: string, token: string, body: string) {
  const socket = net.connect(Number(url.port), url.hostname);
  let response = '';
  let continued: () => void = () => {};
  const inFlight = new Promise<void>((resolve) => (continued = resolve));
  socket.on('data', (chunk) => {
    response += chunk.toString();
    if (response.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) continued();
  });
  // A reset ends the exchange like a close does; the assertions then show what arrived.
  socket.on('error', () => {});
  const done = new Promise<string>((resolve) =>
    socket.on('close', () => resolve(response.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ''))),
  );
  const head = `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`;
  const half = Math.floor(body.length / 2);
  socket.write(head + body.slice(0, half));
  // The rest is written, not ended: a client that half-closes its side before the answer
  // (which no HTTP client does) has its request aborted by Node, shutdown or not.
  return { inFlight, finish: () => socket.write(body.slice(half)), done };
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
    // Each request's head has been read by the server: from then on each request is in flight.
    await Promise.all(inFlight.map((r) => r.inFlight));
    const started = Date.now();
    const exited = server.stop('SIGTERM');

    // The listener closes: a new connection is soon refused outright. (Polled, not awaited for
    // a fixed time: a loaded machine can take its time to handle the signal.)
    const connectOnce = () =>
      new Promise<string>((resolve) => {
        const socket = net.connect(Number(url.port), url.hostname);
        socket.on('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
    let refused = await connectOnce();
    while (refused === 'connected' && Date.now() - started < 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      refused = await connectOnce();
    }
    expect(refused).toBe('ECONNREFUSED');

    // The half-sent requests still complete.
    inFlight.forEach((r) => r.finish());
    const responses = await Promise.all(inFlight.map((r) => r.done));
    for (const response of responses) expect(response).toMatch(/^HTTP\/1\.1 201 Created/);

    // Exit code 0 is a prompt exit: past its 10 s grace period the server exits with 1.
    expect(await exited).toBe(0);
    server = undefined;
  });
});
