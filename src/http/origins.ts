/**
 * Whether a browser origin is in server.allowedOrigins: an exact origin, a `scheme://*.domain`
 * wildcard (any subdomain, not the domain itself), or `*` for any.
 */
export function originAllowed(origin: string, allowed: readonly string[]): boolean {
  for (const rule of allowed) {
    if (rule === '*' || rule === origin) return true;
    const wild = /^([a-z][a-z0-9+.-]*):\/\/\*\.(.+)$/i.exec(rule);
    if (!wild) continue;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    const [, scheme, domain] = wild;
    const host = url.port ? `${url.hostname}:${url.port}` : url.hostname;
    if (url.protocol === `${scheme.toLowerCase()}:` && host.endsWith(`.${domain.toLowerCase()}`)) return true;
  }
  return false;
}
