import type { Config } from '../config.js';

// Cloudflare's bot protection, which Clerk's sign-in embeds.
const CLOUDFLARE_CHALLENGES = 'https://challenges.cloudflare.com';

/**
 * What the Content-Security-Policy changes in helmet's defaults (scripts from this origin only,
 * no inline scripts). Outside production it drops `upgrade-insecure-requests`: the dashboard is
 * then often opened over plain HTTP (http://192.168.1.20:8080), where that directive sends every
 * script and API call to an https:// that does not exist. In Clerk mode the browser may also load
 * Clerk's JS SDK from the instance's Frontend API and talk to it, as Clerk's CSP guide lists.
 */
export function cspDirectives(config: Config): Record<string, string[] | null> {
  const insecureRequests: Record<string, null> = config.env === 'production' ? {} : { 'upgrade-insecure-requests': null };
  const clerk = config.auth.mode === 'clerk' ? config.auth.publishableKey?.frontendApi : undefined;
  // blob: for the thumbnails of attachments, fetched with the session's token.
  if (!clerk) return { ...insecureRequests, 'img-src': ["'self'", 'data:', 'blob:'] };
  return {
    ...insecureRequests,
    'script-src': ["'self'", clerk, CLOUDFLARE_CHALLENGES],
    'connect-src': ["'self'", clerk],
    'img-src': ["'self'", 'data:', 'blob:', 'https://img.clerk.com'],
    'worker-src': ["'self'", 'blob:'],
    'frame-src': [CLOUDFLARE_CHALLENGES],
  };
}
