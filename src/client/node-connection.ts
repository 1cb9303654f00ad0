import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';
import type { ResponseData } from '../signaling/protocol.js';
import { signalingUrl } from '../signaling/url.js';
import { SfuError } from './errors.js';
import { SignalingConnection, type NotificationHandler } from './signaling-connection.js';

/**
 * mediasoup-client types the wire shapes a little differently from mediasoup (its header
 * extension URIs omit server-only ones it ignores; it leaves streamId optional until it has
 * chosen one). The SDK converts between the two here, and only here.
 */
export const toClient = <T extends types.RtpCapabilities | types.RtpParameters>(wire: unknown) => wire as T;
const toWire = (p: types.SctpStreamParameters) => ({ ...p, streamId: p.streamId! });

/** A room lives on one node: a correct cluster redirects at most once, so 3 means a loop. */
const MAX_REDIRECTS = 3;

export interface ConnectionHandlers {
  notification: NotificationHandler;
  /** The signaling socket dropped without our asking. */
  dropped: () => void;
  transportState: (transport: types.Transport, state: types.ConnectionState) => void;
}

/**
 * One joined session on one node: the signaling socket (after following any REDIRECT), the
 * mediasoup-client Device loaded with that room's router, and the send and recv transports.
 * A rejoin makes a new one: a rejoin may land on another router or node.
 */
export class NodeConnection {
  sendTransport?: types.Transport;
  recvTransport?: types.Transport;
  private sending?: Promise<types.Transport>;

  private constructor(
    readonly signaling: SignalingConnection,
    /** The signaling endpoint this connection reached (after any redirect). */
    readonly url: string,
    readonly joined: ResponseData<'join'>,
    readonly device: Device,
    private readonly handlers: ConnectionHandlers,
  ) {}

  /** Joins through the node at `baseUrl`, following REDIRECTs to the node that hosts the room. */
  static async open(baseUrl: string, token: string, autoSubscribe: boolean, handlers: ConnectionHandlers): Promise<NodeConnection> {
    let url = signalingUrl(baseUrl);
    for (let hop = 0; ; hop++) {
      const signaling = await SignalingConnection.open(url, handlers.notification, handlers.dropped);
      try {
        const joined = await signaling.request('join', { token, autoSubscribe });
        const device = new Device();
        await device.load({ routerRtpCapabilities: toClient<types.RtpCapabilities>(joined.routerRtpCapabilities) });
        const connection = new NodeConnection(signaling, url, joined, device, handlers);
        if (joined.grants.subscribe) {
          await signaling.request('setRtpCapabilities', { rtpCapabilities: device.rtpCapabilities });
          connection.recvTransport = await connection.createTransport('recv');
        }
        return connection;
      } catch (err) {
        signaling.close();
        if (!(err instanceof SfuError && err.code === 'REDIRECT' && err.redirect && hop < MAX_REDIRECTS)) throw err;
        url = signalingUrl(err.redirect.url);
      }
    }
  }

  get open() {
    return this.signaling.open;
  }

  /** The send transport, created on first use. */
  ensureSendTransport(): Promise<types.Transport> {
    this.sending ??= this.createTransport('send').then((t) => (this.sendTransport = t));
    return this.sending;
  }

  /** Drops the transports (the server drops its side when the peer leaves). */
  close() {
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.signaling.close();
  }

  private async createTransport(direction: 'send' | 'recv') {
    const { signaling } = this;
    const info = await signaling.request('createTransport', { direction });
    const params = {
      id: info.transportId,
      iceParameters: info.iceParameters,
      iceCandidates: info.iceCandidates,
      dtlsParameters: info.dtlsParameters,
      sctpParameters: info.sctpParameters,
    };
    const transport = direction === 'send' ? this.device.createSendTransport(params) : this.device.createRecvTransport(params);
    transport.on('connect', ({ dtlsParameters }, ok, fail) => {
      signaling.request('connectTransport', { transportId: transport.id, dtlsParameters }).then(() => ok(), fail);
    });
    transport.on('produce', ({ kind, rtpParameters, appData }, ok, fail) => {
      signaling.request('produce', { transportId: transport.id, kind, rtpParameters, appData, paused: Boolean(appData.paused) })
        .then(({ producerId }) => ok({ id: producerId }), fail);
    });
    transport.on('producedata', ({ sctpStreamParameters, label, protocol, appData }, ok, fail) => {
      signaling.request('produceData', { transportId: transport.id, sctpStreamParameters: toWire(sctpStreamParameters), label, protocol, appData })
        .then(({ dataProducerId }) => ok({ id: dataProducerId }), fail);
    });
    transport.on('connectionstatechange', (state) => this.handlers.transportState(transport, state));
    return transport;
  }
}
