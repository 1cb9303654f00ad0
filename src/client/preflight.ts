import { getUserMedia } from './publisher.js';
import { SfuError } from './errors.js';

export interface RegionCheck {
  region: string;
  name: string;
  /** The node measured for this region. */
  url: string;
  /** Median round trip of the probes, in ms; null when the region could not be reached. */
  rttMs: number | null;
  error?: string;
}

export interface DeviceCheck {
  ok: boolean;
  /** MEDIA_PERMISSION_DENIED, MEDIA_NOT_FOUND, MEDIA_IN_USE or MEDIA_UNAVAILABLE. */
  code?: string;
  /** A sentence for the user. */
  reason?: string;
}

/** What Call.preflight() found, before a call. */
export interface PreflightReport {
  /** Every region the service offers, nearest first. */
  regions: RegionCheck[];
  /** The region with the shortest round trip: give it as the region hint when asking for a token. */
  recommendedRegion: string | null;
  /** UDP reaches the service's STUN server; null when it offers none to check against. */
  udp: boolean | null;
  /** Without UDP, media must go through TURN over TCP or TLS. */
  turnNeeded: boolean;
  browser: { webrtc: boolean; secureContext: boolean; mediaDevices: boolean };
  camera: DeviceCheck;
  microphone: DeviceCheck;
}

export interface PreflightOptions {
  /** Probes per region; the first only opens the connection and is not counted. Default 5. */
  probes?: number;
  /** Check the camera and microphone too (asks the user for them). Default true. */
  devices?: boolean;
  /** How long the UDP check waits. Default 3000 ms. */
  udpTimeoutMs?: number;
}

const REASONS: Record<string, string> = {
  MEDIA_PERMISSION_DENIED: 'blocked for this page: allow it in the browser (the icon in the address bar)',
  MEDIA_NOT_FOUND: 'none found: connect one',
  MEDIA_IN_USE: 'in use by another application: close it',
  MEDIA_UNAVAILABLE: 'not available to this page: it needs https:// or localhost',
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
};

/** Round trip to one node: small GETs on one kept-alive connection, the first one (connecting) left out. */
async function measure(url: string, probes: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < probes; i++) {
    const start = performance.now();
    const res = await fetch(`${url.replace(/\/$/, '')}/v1/ping`, { cache: 'no-store', signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    if (i > 0) times.push(performance.now() - start);
  }
  return Math.round(median(times));
}

/**
 * Whether UDP reaches the STUN server: its binding answer comes back as a server-reflexive
 * candidate, or gathering ends without an error for it (the browser drops a reflexive address
 * equal to its own). An unreachable server ends in an icecandidateerror, or in silence.
 */
async function udpWorks(stun: string[], timeoutMs: number): Promise<boolean> {
  const pc = new RTCPeerConnection({ iceServers: [{ urls: stun }] });
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      let failed = false;
      pc.onicecandidate = (ev) => {
        if (ev.candidate?.type === 'srflx' && ev.candidate.protocol === 'udp') done(true);
        if (!ev.candidate) done(!failed);
      };
      pc.onicecandidateerror = (ev) => {
        if (/^stun:/.test((ev as RTCPeerConnectionIceErrorEvent).url ?? '')) failed = true;
      };
      pc.createDataChannel('preflight');
      void pc.createOffer().then((offer) => pc.setLocalDescription(offer));
    });
  } finally {
    pc.close();
  }
}

async function checkDevices(): Promise<{ camera: DeviceCheck; microphone: DeviceCheck }> {
  const check = async (kind: 'video' | 'audio'): Promise<DeviceCheck> => {
    try {
      const stream = await getUserMedia({ [kind]: true });
      for (const t of stream.getTracks()) t.stop();
      return { ok: true };
    } catch (err) {
      const code = err instanceof SfuError ? err.code : 'MEDIA_UNAVAILABLE';
      return { ok: false, code, reason: `${kind === 'video' ? 'Camera' : 'Microphone'} ${REASONS[code] ?? (err as Error).message}` };
    }
  };
  return { camera: await check('video'), microphone: await check('audio') };
}

/**
 * Checks, before a call, what decides whether it will work and where it should be: the round
 * trip to each region the service at `url` offers (the nearest is recommended), whether UDP
 * gets through or TURN is needed, the browser's support, and the camera and microphone.
 */
export async function preflight(url: string, options: PreflightOptions = {}): Promise<PreflightReport> {
  const { probes = 5, devices = true, udpTimeoutMs = 3000 } = options;
  const base = url.replace(/^ws/, 'http').replace(/\/v1\/rtc$/, '').replace(/\/$/, '');
  const browser = {
    webrtc: typeof RTCPeerConnection === 'function',
    secureContext: globalThis.isSecureContext === true,
    mediaDevices: Boolean(globalThis.navigator?.mediaDevices?.getUserMedia),
  };
  const listing = await fetch(`${base}/v1/regions`, { cache: 'no-store' }).then((r) => r.json() as Promise<{ regions: Array<{ region: string; name: string; url: string }>; stun: string[] }>)
    .catch((err) => {
      throw new SfuError('CONNECTION_FAILED', `cannot reach ${base}: ${(err as Error).message}`);
    });
  // Every region, the UDP check and the devices at once: a few small pings per region share the
  // link without skewing each other measurably, and the check costs the longest of them, not
  // their sum (at 200 ms RTT, five probes to each of three regions took 3 s one after another).
  const measured = Promise.all(listing.regions.map(async (r): Promise<RegionCheck> => {
    try {
      return { ...r, rttMs: await measure(r.url, Math.max(2, probes)) };
    } catch (err) {
      return { ...r, rttMs: null, error: (err as Error).message };
    }
  }));
  const [regions, udp, media] = await Promise.all([
    measured,
    browser.webrtc && listing.stun.length ? udpWorks(listing.stun, udpTimeoutMs) : Promise.resolve(null),
    devices ? checkDevices() : Promise.resolve({ camera: { ok: true }, microphone: { ok: true } }),
  ]);
  regions.sort((a, b) => (a.rttMs ?? Infinity) - (b.rttMs ?? Infinity));
  return {
    regions,
    recommendedRegion: regions[0]?.rttMs != null ? regions[0].region : null,
    udp,
    turnNeeded: udp === false,
    browser,
    ...media,
  };
}
