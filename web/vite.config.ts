import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * Writes a .br and a .gz beside every text file of the build, at the highest levels (paid once, at build time),
 * for @fastify/static's preCompressed to send to a browser that accepts them.
 */
function precompress(outDir: string): Plugin {
  return {
    name: 'helpdesk-precompress',
    apply: 'build',
    async closeBundle() {
      const entries = await fs.readdir(outDir, { recursive: true, withFileTypes: true });
      const texts = entries.filter((e) => e.isFile() && /\.(js|css|html|svg|json|txt|map)$/.test(e.name));
      await Promise.all(
        texts.map(async (e) => {
          const file = path.join(e.parentPath, e.name);
          const data = await fs.readFile(file);
          if (data.length < 1024) return; // not worth a round of decoding
          await fs.writeFile(`${file}.br`, await brotli(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length } }));
          await fs.writeFile(`${file}.gz`, await gzip(data, { level: 9 }));
        }),
      );
    },
  };
}

// The dashboard builds into dist/dashboard, which the server serves at `/` (src/web/dashboard.routes.ts).
export default defineConfig({
  root: here,
  plugins: [react(), precompress(path.resolve(here, '../dist/dashboard'))],
  build: {
    outDir: path.resolve(here, '../dist/dashboard'),
    emptyOutDir: true,
    // No inline <script> or data: module: the page runs under `script-src 'self'`.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: { proxy: { '/api': 'http://localhost:8080' } },
});
