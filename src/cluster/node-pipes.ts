import type { types } from 'mediasoup';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { allocatingPort } from '../media/media-errors.js';
import { pipeAddress } from '../media/worker-pool.js';
import { socketBuffers } from '../media/socket-buffers.js';
import type { RoomKey } from '../rooms/room-key.js';
import type { Room } from '../rooms/room.js';
import type { PipeTuple } from './bus-messages.js';
import type { ClusterBus } from './cluster-bus.js';
import type { NodeRegistry } from './node-registry.js';
import { PipeReception } from './pipe-reception.js';

/** Our end of a pipe, resolved once it is connected to the other node's end. */
type PipeEnd = Promise<types.PipeTransport>;

/**
 * Media between nodes. When a peer here consumes a producer hosted on another node, that node
 * consumes it into a PipeTransport and this node produces it with the same id on the room's
 * first router, so it consumes like a local one. One PipeTransport pair per (room, other
 * node) and direction, with SRTP and RTX on, opened on first use: only consumed streams cross.
 * The control messages travel over the signed ClusterBus.
 */
export class NodePipes {
  // `${roomId}|${nodeId}` → our end of a pipe. Each direction has its own pair, so two nodes
  // bringing each other's streams at the same moment never tear down each other's pipe.
  /** Pipes that bring the other node's producers in, here (we opened them to pull its media). */
  private readonly pullingEnds = new Map<string, PipeEnd>();
  /** Pipes that serve our producers out to the other node (it opened them to pull ours). */
  private readonly servingEnds = new Map<string, PipeEnd>();
  private readonly brought = new Map<string, Promise<types.Producer | types.DataProducer>>();
  /** How the streams brought here arrive: loss on the link between nodes, and its repair. */
  readonly reception = new PipeReception();

  constructor(
    private readonly bus: ClusterBus,
    registry: NodeRegistry,
    /** The room here with this id, if any. */
    private readonly roomOf: (roomId: RoomKey) => Room | undefined,
    private readonly media: Config['media'],
    private readonly log: Logger,
  ) {
    registry.on('nodeGone', (nodeId) => this.forgetNode(nodeId));
    bus.onRpc('pipe.connect', ({ roomId, tuple }, from) => this.answerConnect(roomId, from, tuple));
    bus.onRpc('pipe.consume', ({ roomId, producerId }, from) => this.answerConsume(roomId, from, producerId));
    bus.onRpc('pipe.consumeData', ({ roomId, dataProducerId }, from) => this.answerConsumeData(roomId, from, dataProducerId));
    bus.onRpc('pipe.close', async ({ roomId }, from) => {
      this.closeEnds(roomId, from);
      return null;
    });
  }

  /** Streams brought here from other nodes now (each crosses the link between regions). */
  get count() {
    return this.brought.size;
  }

  /** Makes a producer hosted on `nodeId` available on `room`'s first router here. Idempotent. */
  bringProducer(room: Room, nodeId: string, producerId: string): Promise<types.Producer> {
    return this.bring(room, producerId, async () => {
      const transport = await this.endTo(room, nodeId);
      const params = await this.bus.rpc(nodeId, 'pipe.consume', { roomId: room.id, producerId });
      const producer = await transport.produce({ id: producerId, kind: params.kind, rtpParameters: params.rtpParameters, paused: params.paused, appData: params.appData });
      this.reception.add(producer);
      return producer;
    }) as Promise<types.Producer>;
  }

  bringDataProducer(room: Room, nodeId: string, dataProducerId: string): Promise<types.DataProducer> {
    return this.bring(room, dataProducerId, async () => {
      const transport = await this.endTo(room, nodeId);
      const params = await this.bus.rpc(nodeId, 'pipe.consumeData', { roomId: room.id, dataProducerId });
      return transport.produceData({ id: dataProducerId, ...params });
    }) as Promise<types.DataProducer>;
  }

  /** Closes what was brought here for this id (its consumers here close with it). */
  drop(id: string) {
    const pending = this.brought.get(id);
    this.brought.delete(id);
    pending?.then((p) => p.close(), () => undefined);
  }

  async setPaused(id: string, paused: boolean) {
    const producer = (await this.brought.get(id)?.catch(() => undefined)) as types.Producer | undefined;
    if (!producer || producer.closed || !('pause' in producer)) return;
    await (paused ? producer.pause() : producer.resume());
  }

  /** This node's part of the room ended: close every pipe of the room and tell the other ends. */
  closeRoom(roomId: RoomKey) {
    const nodes = new Set([...this.pullingEnds.keys(), ...this.servingEnds.keys()].filter((k) => k.startsWith(`${roomId}|`)).map((k) => k.split('|')[1]));
    for (const nodeId of nodes) {
      this.closeEnds(roomId, nodeId);
      this.bus.rpc(nodeId, 'pipe.close', { roomId }).catch(() => undefined);
    }
  }

  /** A node left the cluster: its pipes are dead. */
  private forgetNode(nodeId: string) {
    for (const key of [...this.pullingEnds.keys(), ...this.servingEnds.keys()]) {
      const [roomId, node] = key.split('|');
      if (node === nodeId) this.closeEnds(roomId, node);
    }
  }

  private bring(room: Room, id: string, create: () => Promise<types.Producer | types.DataProducer>) {
    let pending = this.brought.get(id);
    if (!pending) {
      pending = create();
      pending.catch(() => this.brought.delete(id));
      this.brought.set(id, pending);
      pending.then((p) => (p.observer as { on(event: 'close', listener: () => void): unknown }).on('close', () => {
        if (this.brought.get(id) === pending) this.brought.delete(id);
      }), () => undefined);
      room.log.debug({ id }, 'piping a producer here from another node');
    }
    return pending;
  }

  private createTransport(room: Room) {
    return allocatingPort(room.media.routers[0].router.createPipeTransport({
      listenInfo: {
        protocol: 'udp',
        ip: this.media.listenIp,
        announcedAddress: pipeAddress(this.media),
        portRange: { min: this.media.rtcMinPort, max: this.media.rtcMaxPort },
        ...socketBuffers(this.media),
      },
      enableSctp: true,
      enableRtx: true,
      enableSrtp: true,
    }));
  }

  private tupleOf(transport: types.PipeTransport): PipeTuple {
    return { ip: transport.tuple.localAddress ?? transport.tuple.localIp, port: transport.tuple.localPort, srtpParameters: transport.srtpParameters! };
  }

  /** Our end of the pipe to `nodeId` for this room, connected (opened on first use). */
  private endTo(room: Room, nodeId: string): PipeEnd {
    const key = `${room.id}|${nodeId}`;
    let end = this.pullingEnds.get(key);
    if (!end) {
      const opening: PipeEnd = (async () => {
        const transport = await this.createTransport(room);
        try {
          const remote = await this.bus.rpc(nodeId, 'pipe.connect', { roomId: room.id, tuple: this.tupleOf(transport) });
          await transport.connect(remote);
          return transport;
        } catch (err) {
          transport.close();
          throw err;
        }
      })();
      opening.catch((err) => {
        this.log.warn({ roomId: room.id, nodeId, err: (err as Error).message }, 'could not open a pipe');
        if (this.pullingEnds.get(key) === opening) this.pullingEnds.delete(key);
      });
      this.pullingEnds.set(key, (end = opening));
    }
    return end;
  }

  private room(roomId: RoomKey): Room {
    const room = this.roomOf(roomId);
    if (!room || room.closed) throw new Error(`room ${roomId} is not on this node`);
    return room;
  }

  /** The other node opened its end: open ours (replacing a stale one) and connect it. */
  private async answerConnect(roomId: RoomKey, nodeId: string, tuple: PipeTuple): Promise<PipeTuple> {
    const room = this.room(roomId);
    const key = `${roomId}|${nodeId}`;
    closeEnd(this.servingEnds, key);
    const transport = await this.createTransport(room);
    await transport.connect(tuple);
    this.servingEnds.set(key, Promise.resolve(transport));
    return this.tupleOf(transport);
  }

  /**
   * The pipe `nodeId` opened to us for this room, and one of this node's own producers (never
   * one piped in: streams cross one hop), moved onto the room's first router.
   */
  private async pipeFor(roomId: RoomKey, nodeId: string, kind: 'producer' | 'dataProducer', id: string) {
    const room = this.room(roomId);
    const end = this.servingEnds.get(`${roomId}|${nodeId}`);
    const item = room.find(id);
    if (!end || !item || item.kind !== kind || !room.peers.has(item.peerId)) throw new Error(`no pipe from ${nodeId} or no ${kind} ${id} here`);
    const located = await item.locate();
    await room.media.ensureOn(kind, id, located.entry, room.media.routers[0]);
    return { transport: await end, item };
  }

  private async answerConsume(roomId: RoomKey, nodeId: string, producerId: string) {
    const { transport, item } = await this.pipeFor(roomId, nodeId, 'producer', producerId);
    const consumer = await transport.consume({ producerId });
    return { kind: consumer.kind, rtpParameters: consumer.rtpParameters, paused: consumer.producerPaused, appData: item.info.appData };
  }

  private async answerConsumeData(roomId: RoomKey, nodeId: string, dataProducerId: string) {
    const { transport, item } = await this.pipeFor(roomId, nodeId, 'dataProducer', dataProducerId);
    if (item.kind !== 'dataProducer') throw new Error(`${dataProducerId} is not a data producer`);
    const dataConsumer = await transport.consumeData({ dataProducerId });
    const { label, protocol, appData } = item.info;
    return { sctpStreamParameters: dataConsumer.sctpStreamParameters!, label, protocol, appData };
  }

  private closeEnds(roomId: RoomKey | string, nodeId: string) {
    closeEnd(this.pullingEnds, `${roomId}|${nodeId}`);
    closeEnd(this.servingEnds, `${roomId}|${nodeId}`);
  }
}

/** Closing a pipe transport closes what was piped through it (its consumers here close too). */
function closeEnd(ends: Map<string, PipeEnd>, key: string) {
  const end = ends.get(key);
  ends.delete(key);
  end?.then((t) => t.close(), () => undefined);
}
