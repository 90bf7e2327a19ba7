import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { DevKeys } from '../http/dev-keys.js';
import { sendProblem } from '../http/problem.js';
import { API_PREFIX, Ref, schemaUrl } from '../http/schemas.js';
import { DEV_IDENTITIES } from './dev-identities.js';
import { devSignInRoutes, notFromThisMachine } from './dev-sign-in.js';
import { DashboardConfig } from './web.schemas.js';

/** Where `vite build` puts the dashboard: dist/dashboard, from src/web or dist/web alike. */
export const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/dashboard');

// Vite puts a content hash in every file name under assets/, so those never change.
const HASHED_ASSETS = /^\/assets\//;
/** Where the app's client-side routes live (web/src/app.tsx). */
const CLIENT_SECTIONS = ['/tickets', '/staff'];

/**
 * The web dashboard: its runtime configuration and development sign-in under the API prefix,
 * and the built single-page app at `/`, whose client-side routes get index.html.
 */
export const dashboardRoutes: FastifyPluginAsyncTypebox<{ config: Config; devKeys: DevKeys | undefined }> = async (app, { config, devKeys }) => {
  const { auth } = config;
  const body: DashboardConfig = {
    $schema: schemaUrl('DashboardConfig'),
    auth_mode: auth.mode,
    clerk_publishable_key: auth.mode === 'clerk' ? (auth.publishableKey?.key ?? null) : null,
    dev_identities: auth.mode === 'development' ? [...DEV_IDENTITIES] : [],
    dev_outbox: config.mail.smtpUrl === undefined,
  };
  // The demo identities are offered only to whoever may sign in as them (dev-sign-in.ts); anyone
  // else learns the mode, which the API's own document shows too, and no way in.
  const elsewhere: DashboardConfig = { ...body, dev_identities: [] };
  app.get(
    `${API_PREFIX}/dashboard/config`,
    {
      schema: {
        operationId: 'get-dashboard-config',
        summary: 'How the web dashboard signs in',
        description: 'In development sign-in, the demo identities are listed only for requests from the server’s own machine.',
        tags: ['Dashboard'],
        security: [],
        response: { 200: Ref(DashboardConfig) },
      },
    },
    async (request) => (auth.mode === 'development' && notFromThisMachine(request) ? elsewhere : body),
  );
  if (auth.mode === 'development' && devKeys) {
    await app.register(devSignInRoutes, { prefix: API_PREFIX, auth, keys: devKeys });
  }

  const files = await listFiles(DASHBOARD_DIR);
  if (!files.has('/index.html')) {
    app.log.warn(`the web dashboard is not built (no ${path.join(DASHBOARD_DIR, 'index.html')}); run npm run build`);
    return;
  }
  // The build writes a .br and a .gz beside each text file (web/vite.config.ts): sent to a browser that accepts them.
  await app.register(fastifyStatic, { root: DASHBOARD_DIR, serve: false, preCompressed: true });
  const hidden = { schema: { hide: true } };
  const notFound = (reply: FastifyReply, urlPath: string) => sendProblem(reply, 404, `no route for GET ${urlPath}`);
  const sendAsset = async (request: FastifyRequest, reply: FastifyReply) => {
    const urlPath = decodePath(request.url);
    if (!files.has(urlPath)) return notFound(reply, urlPath);
    const immutable = HASHED_ASSETS.test(urlPath);
    // The body depends on Accept-Encoding (preCompressed): a shared cache must keep one copy per encoding.
    const vary = reply.getHeader('vary');
    reply.header('vary', vary ? `${String(vary)}, Accept-Encoding` : 'Accept-Encoding');
    return reply.sendFile(urlPath, { maxAge: immutable ? '365d' : 0, immutable });
  };
  // A page of the app is index.html for a browser navigating to it; to anything else it is a 404 — except `/`,
  // the first URL anyone tries (`curl localhost:8080/` sends Accept: */*), which is the page for everyone.
  const sendPage = async (request: FastifyRequest, reply: FastifyReply) => {
    const urlPath = decodePath(request.url);
    return urlPath === '/' || (request.headers.accept ?? '').includes('text/html') ? reply.sendFile('index.html', { maxAge: 0 }) : notFound(reply, urlPath);
  };

  app.get('/assets/*', hidden, sendAsset);
  for (const file of files) if (!HASHED_ASSETS.test(file) && file !== '/index.html') app.get(file, hidden, sendAsset);
  // Only the app's own sections, never a catch-all: /api paths must keep the router's own 404, 405 and 422 answers.
  for (const page of ['/', ...CLIENT_SECTIONS.flatMap((section) => [section, `${section}/*`])]) app.get(page, hidden, sendPage);
};

/**
 * What a browser navigating to an address no route has gets: the app's index.html (answered 404),
 * whose own router then shows "Page not found" with a way back, instead of raw problem+json. The
 * API and the assets keep their problem+json 404, and so does anything that is not a page load.
 * Undefined when the dashboard is not built.
 */
export async function dashboardNotFoundPage(): Promise<((request: FastifyRequest) => string | undefined) | undefined> {
  const html = await fs.readFile(path.join(DASHBOARD_DIR, 'index.html'), 'utf8').catch(() => undefined);
  if (html === undefined) return undefined;
  return (request) => {
    const urlPath = decodePath(request.url);
    // Any version of the API, present or future, answers in problem+json.
    const isApi = urlPath === '/api' || urlPath.startsWith('/api/');
    const isPageLoad = (request.method === 'GET' || request.method === 'HEAD') && (request.headers.accept ?? '').includes('text/html');
    return isPageLoad && !isApi && !HASHED_ASSETS.test(urlPath) ? html : undefined;
  };
}

function decodePath(url: string): string {
  const raw = url.split('?')[0] ?? '/';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Every file under dir, as URL paths (`/assets/index-abc.js`); empty when dir does not exist. */
async function listFiles(dir: string): Promise<Set<string>> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return new Set(
    entries.filter((e) => e.isFile() && !/\.(br|gz)$/.test(e.name)).map((e) => `/${path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/')}`),
  );
}
