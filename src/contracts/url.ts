// Where signaling lives. No imports: the browser SDK bundles this file too.

export const PROTOCOL_VERSION = 1;
export const SIGNALING_PATH = `/v${PROTOCOL_VERSION}/rtc`;

/** ws(s)://host/v1/rtc from a node's base URL, or a page-relative, http(s) or ws(s) URL. A path other than / is kept. */
export function signalingUrl(url: string): string {
  const u = new URL(url, typeof location === 'undefined' ? undefined : location.href);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.pathname === '/' || u.pathname === '') u.pathname = SIGNALING_PATH;
  return u.toString();
}
