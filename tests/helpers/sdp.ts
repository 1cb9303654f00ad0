/**
 * Just enough SDP to put a werift RTCPeerConnection on a mediasoup WebRtcTransport:
 * read the client's local description, and write the server side from the transport's
 * ICE/DTLS parameters (mediasoup-client does the same for browsers).
 */
import type { types } from 'mediasoup';
import type { ResponseData } from '../../src/contracts/protocol.js';

type TransportInfo = ResponseData<'createTransport'>;
type ConsumerParams = ResponseData<'consume'>;

export interface LocalSection {
  kind: 'audio' | 'video' | 'application';
  mid: string;
  codecs: Array<{ payloadType: number; mimeType: string; clockRate: number; channels?: number; parameters: Record<string, string | number>; rtcpFeedback: Array<{ type: string; parameter?: string }> }>;
  headerExtensions: Array<{ id: number; uri: types.RtpHeaderExtensionUri }>;
  ssrc?: number;
  cname?: string;
}

export function parseLocal(sdp: string): { fingerprint: types.DtlsFingerprint; sections: LocalSection[] } {
  const [session, ...medias] = sdp.split(/\r?\n(?=m=)/);
  const fp = /a=fingerprint:(\S+) (\S+)/.exec(sdp);
  if (!fp) throw new Error('local SDP has no fingerprint');
  const sections = medias.map((m): LocalSection => {
    const kind = /^m=(\w+)/.exec(m)![1] as LocalSection['kind'];
    const mid = /a=mid:(\S+)/.exec(m)![1];
    const codecs = [...m.matchAll(/a=rtpmap:(\d+) ([^/\s]+)\/(\d+)(?:\/(\d+))?/g)].map(([, pt, name, rate, ch]) => {
      const parameters: Record<string, string | number> = {};
      const fmtp = new RegExp(`a=fmtp:${pt} (.+)`).exec(m);
      for (const kv of fmtp?.[1].split(';') ?? []) {
        const [k, v] = kv.trim().split('=');
        if (k) parameters[k] = /^\d+$/.test(v) ? Number(v) : v;
      }
      const rtcpFeedback = [...m.matchAll(new RegExp(`a=rtcp-fb:${pt} (\\S+)(?: (\\S+))?`, 'g'))].map(([, type, parameter]) => ({ type, ...(parameter ? { parameter } : {}) }));
      return { payloadType: Number(pt), mimeType: `${kind}/${name}`, clockRate: Number(rate), ...(ch ? { channels: Number(ch) } : {}), parameters, rtcpFeedback };
    });
    // SDP text is where the strings become mediasoup's literal types.
    const headerExtensions = [...m.matchAll(/a=extmap:(\d+)(?:\/\w+)? (\S+)/g)].map(([, id, uri]) => ({ id: Number(id), uri: uri as types.RtpHeaderExtensionUri }));
    const ssrcLine = /a=ssrc:(\d+) cname:(\S+)/.exec(m);
    return { kind, mid, codecs, headerExtensions, ssrc: ssrcLine ? Number(ssrcLine[1]) : undefined, cname: ssrcLine?.[2] };
  });
  void session;
  return { fingerprint: { algorithm: fp[1] as types.FingerprintAlgorithm, value: fp[2] }, sections };
}

function transportLines(t: TransportInfo, setup: 'passive' | 'actpass') {
  const candidates = t.iceCandidates
    .filter((c) => c.protocol === 'udp') // werift gathers and checks UDP only
    .map((c) => `a=candidate:${c.foundation} 1 ${c.protocol} ${c.priority} ${c.address} ${c.port} typ ${c.type}`);
  return [
    `c=IN IP4 127.0.0.1`,
    `a=ice-ufrag:${t.iceParameters.usernameFragment}`,
    `a=ice-pwd:${t.iceParameters.password}`,
    ...candidates,
    'a=end-of-candidates',
    `a=setup:${setup}`,
  ];
}

function sessionLines(t: TransportInfo, mids: string[]) {
  const fp = t.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? t.dtlsParameters.fingerprints[0];
  return ['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=ice-lite', `a=group:BUNDLE ${mids.join(' ')}`, `a=fingerprint:${fp.algorithm} ${fp.value}`, 'a=msid-semantic: WMS *'];
}

function codecLines(codecs: Array<{ payloadType: number; mimeType: string; clockRate: number; channels?: number; parameters?: Record<string, unknown>; rtcpFeedback?: Array<{ type: string; parameter?: string }> }>) {
  return codecs.flatMap((c) => {
    const name = c.mimeType.split('/')[1];
    const params = Object.entries(c.parameters ?? {}).map(([k, v]) => `${k}=${v}`).join(';');
    return [
      `a=rtpmap:${c.payloadType} ${name}/${c.clockRate}${c.channels && c.channels > 1 ? `/${c.channels}` : ''}`,
      ...(params ? [`a=fmtp:${c.payloadType} ${params}`] : []),
      ...(c.rtcpFeedback ?? []).map((fb) => `a=rtcp-fb:${c.payloadType} ${fb.type}${fb.parameter ? ` ${fb.parameter}` : ''}`),
    ];
  });
}

const SCTP_LINES = (t: TransportInfo) => [`a=sctp-port:${t.sctpParameters?.port ?? 5000}`, `a=max-message-size:${t.sctpParameters?.maxSendMessageSize ?? 262144}`];

/** The server's answer to the client's send offer. */
export function answerForSend(t: TransportInfo, sections: LocalSection[]): string {
  const lines = sessionLines(t, sections.map((s) => s.mid));
  for (const s of sections) {
    if (s.kind === 'application') {
      lines.push('m=application 7 UDP/DTLS/SCTP webrtc-datachannel', ...transportLines(t, 'passive'), `a=mid:${s.mid}`, ...SCTP_LINES(t));
      continue;
    }
    lines.push(
      `m=${s.kind} 7 UDP/TLS/RTP/SAVPF ${s.codecs.map((c) => c.payloadType).join(' ')}`,
      ...transportLines(t, 'passive'),
      `a=mid:${s.mid}`, 'a=recvonly', 'a=rtcp-mux', 'a=rtcp-rsize',
      ...codecLines(s.codecs),
      ...s.headerExtensions.map((e) => `a=extmap:${e.id} ${e.uri}`),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The server's offer of consumers (and data, if any) to the client's recv connection. */
export function offerForRecv(t: TransportInfo, consumers: ConsumerParams[], withData: boolean): string {
  const mids = consumers.map((c) => c.rtpParameters.mid!);
  if (withData) mids.push('datachannel');
  const lines = sessionLines(t, mids);
  for (const c of consumers) {
    const enc = c.rtpParameters.encodings![0];
    const cname = c.rtpParameters.rtcp?.cname ?? 'sfu';
    lines.push(
      `m=${c.kind} 7 UDP/TLS/RTP/SAVPF ${c.rtpParameters.codecs.map((x) => x.payloadType).join(' ')}`,
      ...transportLines(t, 'actpass'),
      `a=mid:${c.rtpParameters.mid}`, 'a=sendonly', 'a=rtcp-mux', 'a=rtcp-rsize',
      ...codecLines(c.rtpParameters.codecs),
      ...(c.rtpParameters.headerExtensions ?? []).map((e) => `a=extmap:${e.id} ${e.uri}`),
      `a=msid:${c.peerId} ${c.consumerId}`,
      `a=ssrc:${enc.ssrc} cname:${cname}`,
      ...(enc.rtx ? [`a=ssrc:${enc.rtx.ssrc} cname:${cname}`, `a=ssrc-group:FID ${enc.ssrc} ${enc.rtx.ssrc}`] : []),
    );
  }
  if (withData) lines.push('m=application 7 UDP/DTLS/SCTP webrtc-datachannel', ...transportLines(t, 'actpass'), 'a=mid:datachannel', ...SCTP_LINES(t));
  return `${lines.join('\r\n')}\r\n`;
}
