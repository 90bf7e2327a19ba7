import type { Config } from '../config.js';

// Cloudflare's bot protection, which Clerk's sign-in embeds.
const CLOUDFLARE_CHALLENGES = 'https://challenges.cloudflare.com';

/**
 * What the Content-Security-Policy adds to helmet's defaults (scripts from this origin only,
 * no inline scripts). Only in Clerk mode: the browser may then load Clerk's JS SDK from the
 * instance's Frontend API and talk to it, as Clerk's CSP guide lists.
 */
export function cspDirectives(config: Config): Record<string, string[]> {
  const clerk = config.auth.mode === 'clerk' ? config.auth.publishableKey?.frontendApi : undefined;
  if (!clerk) return {};
  return {
    'script-src': ["'self'", clerk, CLOUDFLARE_CHALLENGES],
    'connect-src': ["'self'", clerk],
    'img-src': ["'self'", 'data:', 'https://img.clerk.com'],
    'worker-src': ["'self'", 'blob:'],
    'frame-src': [CLOUDFLARE_CHALLENGES],
  };
}
