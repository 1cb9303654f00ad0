import { describe, expect, it } from 'vitest';
import { defaultRedirectHosts, redirectAllowed } from '../../src/client/redirects.js';

describe('which redirects the SDK follows', () => {
  it('by default: the same host, and its siblings under the same parent domain', () => {
    const allowed = defaultRedirectHosts('wss://node-2.us-west.sfu.example.com/v1/rtc');
    expect(allowed).toEqual(['node-2.us-west.sfu.example.com', '*.us-west.sfu.example.com']);
    expect(redirectAllowed('https://node-7.us-west.sfu.example.com', allowed)).toBe(true);
    expect(redirectAllowed('https://node-2.us-west.sfu.example.com:8443', allowed)).toBe(true);
    expect(redirectAllowed('https://evil.example', allowed)).toBe(false);
    expect(redirectAllowed('https://us-west.sfu.example.com.evil.example', allowed)).toBe(false);
    expect(redirectAllowed('not a url', allowed)).toBe(false);
  });

  it('an IP address or a single-label host allows only itself, on any port', () => {
    expect(defaultRedirectHosts('ws://127.0.0.1:8080/v1/rtc')).toEqual(['127.0.0.1']);
    expect(redirectAllowed('http://127.0.0.1:8081', ['127.0.0.1'])).toBe(true);
    expect(redirectAllowed('http://127.0.0.2:8081', ['127.0.0.1'])).toBe(false);
    expect(defaultRedirectHosts('http://localhost:8080')).toEqual(['localhost']);
  });

  it('a configured list: names and *.domain wildcards', () => {
    const allowed = ['sfu.example.com', '*.nodes.example.net'];
    expect(redirectAllowed('https://sfu.example.com', allowed)).toBe(true);
    expect(redirectAllowed('https://a.nodes.example.net', allowed)).toBe(true);
    expect(redirectAllowed('https://nodes.example.net', allowed)).toBe(false);
    expect(redirectAllowed('https://x.sfu.example.com', allowed)).toBe(false);
  });
});
