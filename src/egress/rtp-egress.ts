import { allocatingPort } from '../media/media-errors.js';
import { randomBytes } from 'node:crypto';
import type { types } from 'mediasoup';
import type { SdpStream } from './sdp.js';

export interface EgressTarget {
  ip: string;
  port: number;
  /** RTCP's port: port + 1 by default (receivers such as ffmpeg bind both). */
  rtcpPort?: number;
}

export interface EgressOptions {
  /** The IP our PlainTransport sends from. */
  listenIp: string;
  /** Encrypt with SRTP (AES_CM_128_HMAC_SHA1_80); the receiver gets the key in the SDP. */
  srtp?: boolean;
  appData?: types.AppData;
}

/**
 * One producer sent out of mediasoup as plain RTP (or SRTP) to a receiver outside it: a
 * PlainTransport on the producer's router and a consumer on it. Retransmission is left out,
 * as a plain receiver (ffmpeg, GStreamer) would not understand it. Starts paused: resume
 * once the receiver listens, so its first packets include a key frame.
 */
export class RtpEgress {
  private constructor(readonly transport: types.PlainTransport, readonly consumer: types.Consumer, readonly target: Required<EgressTarget>) {}

  static async open(router: types.Router, producerId: string, target: EgressTarget, opts: EgressOptions): Promise<RtpEgress> {
    const full = { ...target, rtcpPort: target.rtcpPort ?? target.port + 1 };
    const transport = await allocatingPort(router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: opts.listenIp },
      rtcpMux: false,
      comedia: false,
      enableSrtp: opts.srtp ?? false,
      appData: opts.appData,
    }));
    try {
      await transport.connect({
        ip: full.ip, port: full.port, rtcpPort: full.rtcpPort,
        // The receiver sends us nothing but RTCP reports; this is the key it would use.
        ...(opts.srtp ? { srtpParameters: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: randomBytes(30).toString('base64') } } : {}),
      });
      const caps = router.rtpCapabilities;
      const consumer = await transport.consume({
        producerId,
        paused: true,
        rtpCapabilities: { codecs: caps.codecs!.filter((c) => !c.mimeType.toLowerCase().endsWith('/rtx')), headerExtensions: [] },
        appData: opts.appData,
      });
      return new RtpEgress(transport, consumer, full);
    } catch (err) {
      transport.close();
      throw err;
    }
  }

  get closed() {
    return this.transport.closed || this.consumer.closed;
  }

  /** How a receiver reads this stream (for its SDP). */
  sdpStream(): SdpStream {
    return {
      kind: this.consumer.kind,
      port: this.target.port,
      rtcpPort: this.target.rtcpPort,
      codec: this.consumer.rtpParameters.codecs[0],
      srtp: this.transport.srtpParameters,
    };
  }

  async start() {
    await this.consumer.resume();
    await this.requestKeyFrame();
  }

  async requestKeyFrame() {
    if (this.consumer.kind === 'video' && !this.closed) await this.consumer.requestKeyFrame().catch(() => undefined);
  }

  close() {
    this.transport.close();
  }
}
