import zlib from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

type Encoding = 'br' | 'gzip';

/** The encoding to answer in: brotli, else gzip, when Accept-Encoding takes it (a q=0 refuses it); else none. */
export function chooseEncoding(acceptEncoding: string | undefined): Encoding | undefined {
  const accepted = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (name) accepted.set(name, q === undefined ? 1 : Number(q));
  }
  const takes = (name: Encoding) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  return takes('br') ? 'br' : takes('gzip') ? 'gzip' : undefined;
}

/**
 * A large answer that never changes while the process runs (the OpenAPI document), compressed once and sent in the
 * encoding the client accepts. `prepare` makes and compresses it ahead of any request (the OpenAPI routes call it
 * when the app is ready: brotli at quality 9 takes tens of milliseconds, which no request should wait for);
 * otherwise the first request does. Hot JSON answers are not compressed here: that costs CPU per request, and a
 * reverse proxy in front does it better (README).
 */
export function compressedOnce(make: () => string): ((request: FastifyRequest, reply: FastifyReply) => Buffer) & { prepare(): void } {
  let bodies: Record<Encoding | 'identity', Buffer> | undefined;
  const prepare = () => {
    if (bodies) return bodies;
    const plain = Buffer.from(make());
    bodies = {
      identity: plain,
      br: zlib.brotliCompressSync(plain, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: plain.length } }),
      gzip: zlib.gzipSync(plain, { level: 9 }),
    };
    return bodies;
  };
  const send = (request: FastifyRequest, reply: FastifyReply) => {
    const encoding = chooseEncoding(request.headers['accept-encoding']);
    const vary = reply.getHeader('vary');
    reply.header('vary', vary ? `${String(vary)}, Accept-Encoding` : 'Accept-Encoding');
    if (encoding) reply.header('content-encoding', encoding);
    return prepare()[encoding ?? 'identity'];
  };
  return Object.assign(send, { prepare: () => void prepare() });
}
