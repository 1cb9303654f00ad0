import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';
import type { ResponseData } from '../contracts/protocol.js';
import { signalingUrl } from '../contracts/url.js';
import { SfuError } from './errors.js';
import { defaultRedirectHosts, redirectAllowed } from './redirects.js';
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
export type Resumed = NonNullable<ResponseData<'join'>['resumed']>;

export class NodeConnection {
  sendTransport?: types.Transport;
  recvTransport?: types.Transport;
  /** How long the join took to answer: the first measure of the round trip to the node, before ICE gives one. */
  joinRttMs?: number;
  /** Settles when the node knows what this browser receives (setRtpCapabilities answered). */
  ready: Promise<void> = Promise.resolve();
  private sending?: Promise<types.Transport>;

  private constructor(
    /** Replaced when the client resumes on a new socket; the transports stay. */
    public signaling: SignalingConnection,
    /** The signaling endpoint this connection reached (after any redirect). */
    readonly url: string,
    public joined: ResponseData<'join'>,
    readonly device: Device,
    private readonly handlers: ConnectionHandlers,
  ) {}

  /**
   * Joins through the node at `baseUrl`, following REDIRECTs to the node that hosts the room,
   * but only to hosts in `redirectHosts` (default: baseUrl's host and its siblings): the token
   * goes wherever the redirect points.
   */
  static async open(baseUrl: string, token: string, autoSubscribe: boolean, handlers: ConnectionHandlers, redirectHosts?: string[]): Promise<NodeConnection> {
    let url = signalingUrl(baseUrl);
    const allowed = redirectHosts ?? defaultRedirectHosts(url);
    for (let hop = 0; ; hop++) {
      const signaling = await SignalingConnection.open(url, handlers.notification, handlers.dropped);
      try {
        const asked = performance.now();
        const joined = await signaling.request('join', { token, autoSubscribe, transports: ['recv', 'send'] });
        const joinRttMs = performance.now() - asked;
        const connection = await NodeConnection.establish(signaling, url, joined, handlers);
        connection.joinRttMs = joinRttMs;
        return connection;
      } catch (err) {
        signaling.close();
        if (!(err instanceof SfuError && err.code === 'REDIRECT' && err.redirect && hop < MAX_REDIRECTS)) throw err;
        if (!redirectAllowed(err.redirect.url, allowed)) {
          throw new SfuError('REDIRECT_REFUSED', `refused a redirect to ${err.redirect.url}: not in redirectHosts (${allowed.join(', ')})`);
        }
        url = signalingUrl(err.redirect.url);
      }
    }
  }

  /**
   * A fresh join on `signaling`: load the Device for its router, make the transports the join
   * brought, and tell the node what this browser receives. At 200 ms RTT each round trip before
   * media shows, so nothing here waits for an answer it does not need: `ready` is the last one.
   */
  private static async establish(signaling: SignalingConnection, url: string, joined: ResponseData<'join'>, handlers: ConnectionHandlers) {
    const device = new Device();
    await device.load({ routerRtpCapabilities: toClient<types.RtpCapabilities>(joined.routerRtpCapabilities) });
    const connection = new NodeConnection(signaling, url, joined, device, handlers);
    for (const info of joined.transports ?? []) {
      const transport = connection.makeTransport(info);
      if (info.direction === 'recv') connection.recvTransport = transport;
      else connection.sending = Promise.resolve((connection.sendTransport = transport));
    }
    if (joined.grants.subscribe) {
      connection.ready = signaling.request('setRtpCapabilities', { rtpCapabilities: device.rtpCapabilities }).then(() => undefined);
      // A node that makes no transports with the join (an older one): ask for it.
      connection.recvTransport ??= await connection.createTransport('recv');
    }
    return connection;
  }

  /**
   * After a dropped socket: joins again on the same node with resume. When the server still
   * holds this participant, the new socket takes over this connection (its Device and
   * transports stay) and the answer says what the server has; else this is a fresh connection.
   */
  async resume(token: string, autoSubscribe: boolean): Promise<{ connection: NodeConnection; resumed?: Resumed }> {
    const signaling = await SignalingConnection.open(this.url, this.handlers.notification, this.handlers.dropped);
    try {
      const joined = await signaling.request('join', { token, autoSubscribe, resume: true });
      const kept = joined.resumed && joined.resumed.transports.length === [this.sendTransport, this.recvTransport].filter(Boolean).length
        && [this.sendTransport, this.recvTransport].every((t) => !t || joined.resumed!.transports.some((r) => r.transportId === t.id));
      if (joined.resumed && kept) {
        this.signaling.close();
        this.signaling = signaling;
        this.joined = joined;
        return { connection: this, resumed: joined.resumed };
      }
      // Nothing (or not all) to resume: start over on this socket.
      if (joined.resumed) await signaling.request('leave', {});
      const fresh = joined.resumed ? await signaling.request('join', { token, autoSubscribe }) : joined;
      return { connection: await NodeConnection.establish(signaling, this.url, fresh, this.handlers) };
    } catch (err) {
      signaling.close();
      throw err;
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
    return this.makeTransport(await this.signaling.request('createTransport', { direction }));
  }

  /** This browser's side of a transport the node made. */
  private makeTransport(info: ResponseData<'createTransport'>) {
    const params = {
      id: info.transportId,
      iceParameters: info.iceParameters,
      iceCandidates: info.iceCandidates,
      dtlsParameters: info.dtlsParameters,
      sctpParameters: info.sctpParameters,
      // TURN from the join answer; relay-only when the token or the tenant says so.
      iceServers: this.joined.iceServers,
      iceTransportPolicy: this.joined.iceTransportPolicy,
    };
    const transport = info.direction === 'send' ? this.device.createSendTransport(params) : this.device.createRecvTransport(params);
    // this.signaling, not a copy: after a resume the same transports speak through the new socket.
    transport.on('connect', ({ dtlsParameters }, ok) => {
      // Not awaited: the produce (or consume) that caused it goes out behind it on the same
      // socket, a round trip sooner. Should the node refuse it, DTLS never completes, the
      // transport fails, and the call's recovery takes over.
      this.signaling.request('connectTransport', { transportId: transport.id, dtlsParameters }).catch(() => undefined);
      ok();
    });
    transport.on('produce', ({ kind, rtpParameters, appData }, ok, fail) => {
      this.signaling.request('produce', { transportId: transport.id, kind, rtpParameters, appData, paused: Boolean(appData.paused) })
        .then(({ producerId }) => ok({ id: producerId }), fail);
    });
    transport.on('producedata', ({ sctpStreamParameters, label, protocol, appData }, ok, fail) => {
      this.signaling.request('produceData', { transportId: transport.id, sctpStreamParameters: toWire(sctpStreamParameters), label, protocol, appData })
        .then(({ dataProducerId }) => ok({ id: dataProducerId }), fail);
    });
    transport.on('connectionstatechange', (state) => this.handlers.transportState(transport, state));
    return transport;
  }
}
