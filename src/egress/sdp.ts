import type { types } from 'mediasoup';

/** One RTP stream as a receiver sees it: where it arrives and how to read it. */
export interface SdpStream {
  kind: types.MediaKind;
  port: number;
  /** RTCP's port; omitted when RTCP shares the RTP port (rtcp-mux). */
  rtcpPort?: number;
  codec: types.RtpCodecParameters;
  /** SRTP: the key the sender encrypts with, for the receiver to decrypt (RFC 4568 a=crypto). */
  srtp?: types.SrtpParameters;
}

const fmtp = (parameters: Record<string, unknown> | undefined) => {
  // mediasoup's own hints are not SDP format parameters.
  const entries = Object.entries(parameters ?? {}).filter(([k]) => !k.startsWith('x-google'));
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(';') : undefined;
};

/**
 * A receive-only SDP for RTP sent to `ip`: what ffmpeg (`-f sdp -i`) and GStreamer
 * (`sdpdemux`) take to receive the streams a PlainTransport sends them.
 */
export function rtpSdp(ip: string, streams: SdpStream[], name = 'crossborder-sfu'): string {
  const family = ip.includes(':') ? 'IP6' : 'IP4';
  const lines = ['v=0', `o=- 0 0 IN ${family} ${ip}`, `s=${name}`, `c=IN ${family} ${ip}`, 't=0 0'];
  for (const s of streams) {
    const { codec } = s;
    const encoding = codec.mimeType.split('/')[1];
    lines.push(`m=${s.kind} ${s.port} ${s.srtp ? 'RTP/SAVP' : 'RTP/AVP'} ${codec.payloadType}`);
    if (s.rtcpPort !== undefined) lines.push(`a=rtcp:${s.rtcpPort}`);
    else lines.push('a=rtcp-mux');
    lines.push(`a=rtpmap:${codec.payloadType} ${encoding}/${codec.clockRate}${codec.channels && codec.channels > 1 ? `/${codec.channels}` : ''}`);
    const params = fmtp(codec.parameters);
    if (params) lines.push(`a=fmtp:${codec.payloadType} ${params}`);
    if (s.srtp) lines.push(`a=crypto:1 ${s.srtp.cryptoSuite} inline:${s.srtp.keyBase64}`);
    lines.push('a=recvonly');
  }
  return `${lines.join('\r\n')}\r\n`;
}
