// Runs of the characters a JWT is made of (base64url and its dots). The pattern has one
// repeated class and nothing after it, so each character is looked at once: linear in the URL.
const TOKEN_CHARS = /[\w.-]+/g;

/**
 * A URL with every bearer token in it replaced by `[REDACTED]`: a token is a credential wherever
 * it appears, even in a URL a client got wrong. A JWT is a run of base64url characters and dots
 * holding `eyJ` (the encoded `{"` that starts its header) and two dots after it; the whole run
 * goes. Linear time on any input: the access log applies it to every request URL, unauthenticated
 * 404s included, so a backtracking pattern here lets anyone stall the event loop.
 */
export function redactTokens(url: string): string {
  return url.replace(TOKEN_CHARS, (run) => {
    const start = run.indexOf('eyJ');
    if (start < 0) return run;
    const firstDot = run.indexOf('.', start);
    return firstDot >= 0 && run.indexOf('.', firstDot + 1) >= 0 ? '[REDACTED]' : run;
  });
}
