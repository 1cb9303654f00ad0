// A complete client on plain mediasoup-client and a WebSocket, speaking protocol v1 (no SDK).
import { Device } from 'mediasoup-client';

/**
 * Joins the room the token names on the node at `nodeUrl` (http://host:port or https://host),
 * publishes the tracks of `stream`, and calls `onTrack` for every track of the others.
 */
export async function joinRoom(nodeUrl, token, stream, onTrack) {
  const ws = new WebSocket(`${nodeUrl.replace(/^http/, 'ws')}/v1/rtc`);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`cannot reach ${nodeUrl}`));
  });

  // Requests and their responses, matched by id; notifications wait until we can handle them.
  let nextId = 1;
  const pending = new Map();
  const early = [];
  let onNotification = (n) => early.push(n);
  ws.onmessage = ({ data }) => {
    const msg = JSON.parse(data);
    if (msg.type === 'notification') return onNotification(msg);
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.data);
    else p.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
  };
  const request = (method, data = {}) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    ws.send(JSON.stringify({ type: 'request', id, method, data }));
  });

  // 1. Join, and load a Device with the room's router capabilities.
  const joined = await request('join', { token });
  // Each transport: its own ICE and DTLS parameters, and the TURN servers of the join answer.
  const transportOptions = (t) => ({
    id: t.transportId, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates,
    dtlsParameters: t.dtlsParameters, sctpParameters: t.sctpParameters,
    iceServers: joined.iceServers, iceTransportPolicy: joined.iceTransportPolicy,
  });
  const device = new Device();
  await device.load({ routerRtpCapabilities: joined.routerRtpCapabilities });
  await request('setRtpCapabilities', { rtpCapabilities: device.rtpCapabilities });

  // 2. Receive. newConsumer comes for every track in the room, now and later, and may come
  //    right after the createTransport response: the early ones were kept above.
  const recv = device.createRecvTransport(transportOptions(await request('createTransport', { direction: 'recv' })));
  recv.on('connect', ({ dtlsParameters }, done, fail) => {
    request('connectTransport', { transportId: recv.id, dtlsParameters }).then(done, fail);
  });
  onNotification = async ({ method, data }) => {
    if (method !== 'newConsumer') return;
    const consumer = await recv.consume({ id: data.consumerId, producerId: data.producerId, kind: data.kind, rtpParameters: data.rtpParameters });
    await request('resumeConsumer', { consumerId: consumer.id });
    onTrack({ participantId: data.peerId, kind: data.kind, track: consumer.track });
  };
  for (const n of early.splice(0)) onNotification(n);

  // 3. Send. The server's producerId goes back to mediasoup-client through the produce event.
  const send = device.createSendTransport(transportOptions(await request('createTransport', { direction: 'send' })));
  send.on('connect', ({ dtlsParameters }, done, fail) => {
    request('connectTransport', { transportId: send.id, dtlsParameters }).then(done, fail);
  });
  send.on('produce', ({ kind, rtpParameters, appData }, done, fail) => {
    request('produce', { transportId: send.id, kind, rtpParameters, appData }).then(({ producerId }) => done({ id: producerId }), fail);
  });
  for (const track of stream.getTracks()) {
    await send.produce({ track, appData: { source: track.kind === 'video' ? 'camera' : 'microphone' } });
  }

  return {
    peerId: joined.peerId,
    async leave() {
      await request('leave');
      // The server closed its side of both transports; close ours.
      send.close();
      recv.close();
      ws.close();
    },
  };
}
