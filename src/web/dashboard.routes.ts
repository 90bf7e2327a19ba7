import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../config.js';
import type { DevKeys } from '../http/dev-keys.js';
import { API_PREFIX, Ref, schemaUrl } from '../http/schemas.js';
import { DEV_IDENTITIES, devSignInRoutes } from './dev-sign-in.js';
import { DashboardConfig } from './web.schemas.js';

/** Where `vite build` puts the dashboard: dist/dashboard, from src/web or dist/web alike. */
export const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/dashboard');

// Vite puts a content hash in every file name under assets/, so those never change.
const HASHED_ASSETS = /^\/assets\//;

/**
 * The web dashboard: its runtime configuration and development sign-in under the API prefix,
 * and the built single-page app at `/`, where any other GET navigation gets index.html.
 */
export const dashboardRoutes: FastifyPluginAsyncTypebox<{ config: Config; devKeys: DevKeys | undefined; root?: string }> = async (
  app,
  { config, devKeys, root = DASHBOARD_DIR },
) => {
  const { auth } = config;
  const body: DashboardConfig = {
    $schema: schemaUrl('DashboardConfig'),
    auth_mode: auth.mode,
    clerk_publishable_key: auth.mode === 'clerk' ? (auth.publishableKey?.key ?? null) : null,
    dev_identities: auth.mode === 'development' ? [...DEV_IDENTITIES] : [],
  };
  app.get(
    `${API_PREFIX}/dashboard/config`,
    {
      schema: {
        operationId: 'get-dashboard-config',
        summary: 'How the web dashboard signs in',
        tags: ['Dashboard'],
        security: [],
        response: { 200: Ref(DashboardConfig) },
      },
    },
    async () => body,
  );
  if (auth.mode === 'development' && devKeys) {
    await app.register(devSignInRoutes, { prefix: API_PREFIX, auth, keys: devKeys });
  }

  const files = await listFiles(root);
  if (!files.has('/index.html')) {
    app.log.warn(`the web dashboard is not built (no ${path.join(root, 'index.html')}); run npm run build`);
    return;
  }
  await app.register(fastifyStatic, { root, serve: false });
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const urlPath = decodePath(request.url);
    if (files.has(urlPath)) {
      const immutable = HASHED_ASSETS.test(urlPath);
      return reply.sendFile(urlPath, { maxAge: immutable ? '365d' : 0, immutable });
    }
    // Client-side routes are pages; anything else (an unknown API path, a missing asset) stays a problem+json 404.
    const isNavigation = !urlPath.startsWith(`${API_PREFIX}/`) && !HASHED_ASSETS.test(urlPath) && (request.headers.accept ?? '').includes('text/html');
    if (!isNavigation) return reply.callNotFound();
    return reply.sendFile('index.html', { maxAge: 0 });
  });
};

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
    entries.filter((e) => e.isFile()).map((e) => `/${path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/')}`),
  );
}
