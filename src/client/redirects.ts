// Which nodes a REDIRECT may send the SDK to, with the call's token. No imports: pure URL logic.

const isIp = (host: string) => /^[\d.]+$/.test(host) || host.includes(':') || host.startsWith('[');

/**
 * The default: the host the call was given, and its sibling hosts (the same parent domain),
 * so node-2.sfu.example.com may redirect to node-7.sfu.example.com. An IP address or a
 * single-label host (localhost) allows only itself; ports may differ.
 */
export function defaultRedirectHosts(url: string): string[] {
  const host = new URL(url).hostname.toLowerCase();
  const labels = host.split('.');
  if (isIp(host) || labels.length < 2) return [host];
  return [host, `*.${labels.length > 2 ? labels.slice(1).join('.') : host}`];
}

/** Whether `target` (a node URL from a REDIRECT) is on a host that `allowed` names exactly or by `*.domain`. */
export function redirectAllowed(target: string, allowed: readonly string[]): boolean {
  let host: string;
  try {
    host = new URL(target).hostname.toLowerCase();
  } catch {
    return false;
  }
  return allowed.some((rule) => {
    const r = rule.toLowerCase();
    return r === host || (r.startsWith('*.') && !isIp(host) && host.endsWith(r.slice(1)));
  });
}
