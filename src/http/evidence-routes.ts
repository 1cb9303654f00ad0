/** The server API's evidence of a call: recordings, snapshots, RTP forwards, notes, and their files. */
import fs from 'node:fs';
import { Type } from '@sinclair/typebox';
import { ForwardView, Note, RecordingView, Snapshot } from '../contracts/records.js';
import { Identity, ParticipantParams, ROOM_ERRORS, RoomName, RoomParams, route, type Route } from './route.js';
import { CodedError } from '../common/errors.js';

const Link = Type.Object({
  url: Type.String({ description: 'A signed link that needs no API key, valid for recording.linkTtlSeconds (GET /v1/files/:fileId with the key works too).' }),
  expiresAt: Type.Integer({ description: 'Epoch seconds.' }),
});
const MEDIA_ERRORS = ['FFMPEG_MISSING', 'DISK_FULL', 'LIMIT_REACHED'] as const;
const Port = Type.Integer({ minimum: 1024, maximum: 65534, description: 'RTP port (even); RTCP goes to port + 1.' });

export const evidenceRoutes: Route[] = [
  route({
    method: 'POST', url: '/v1/rooms/:room/recordings',
    summary: 'Start recording the room, or one participant\'s tracks: each track to its own file, not transcoded (opus, VP8 and VP9 in WebM; H264 in Matroska), on the node that hosts it. Participants who join, reconnect or publish later are followed. Ends with recording.finished.',
    params: RoomParams,
    body: Type.Object({ identity: Type.Optional(Identity) }, { additionalProperties: false }),
    responses: { 201: RecordingView },
    errors: [...ROOM_ERRORS, ...MEDIA_ERRORS],
    async handler({ evidence }, req, reply) {
      return reply.code(201).send(await evidence.startRecording(req.tenant, req.params.room, req.body?.identity ?? null));
    },
  }),
  route({
    method: 'GET', url: '/v1/rooms/:room/recordings', summary: 'The recordings of the call going on in the room: those running, and those that ended, with their files.',
    params: RoomParams,
    responses: { 200: Type.Object({ recordings: Type.Array(RecordingView) }) },
    errors: ROOM_ERRORS,
    async handler({ evidence }, req) {
      return { recordings: await evidence.recordings(req.tenant, req.params.room) };
    },
  }),
  route({
    method: 'DELETE', url: '/v1/rooms/:room/recordings/:recordingId', summary: 'Stop a recording: its files are finished and listed in recording.finished and the call record.',
    params: Type.Object({ room: RoomName, recordingId: Type.String({ maxLength: 64 }) }),
    responses: { 204: Type.Null() },
    errors: ROOM_ERRORS,
    async handler({ evidence }, req, reply) {
      await evidence.stopRecording(req.tenant, req.params.room, req.params.recordingId);
      return reply.code(204).send();
    },
  }),
  route({
    method: 'POST', url: '/v1/rooms/:room/snapshots', summary: 'Capture a still of a participant\'s video (its camera unless trackId names another track) as a JPEG; it is listed in the call record. Everyone in the call gets snapshotTaken.',
    params: RoomParams,
    body: Type.Object({ identity: Identity, trackId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }),
    responses: { 201: Type.Composite([Snapshot, Link]) },
    errors: [...ROOM_ERRORS, ...MEDIA_ERRORS, 'SNAPSHOT_FAILED'],
    async handler({ evidence }, req, reply) {
      return reply.code(201).send(await evidence.snapshot(req.tenant.id, req.params.room, req.body.identity, req.body.trackId, 'api'));
    },
  }),
  route({
    method: 'POST', url: '/v1/rooms/:room/participants/:identity/forwards',
    summary: 'Send a participant\'s audio, video or both as RTP (or SRTP) to a service outside the call, such as a transcriber. The answer carries the SDP its receiver (ffmpeg, GStreamer) needs. Ends when stopped, when the track ends, or with the room.',
    params: ParticipantParams,
    body: Type.Object({
      host: Type.String({ minLength: 2, maxLength: 64, description: 'The receiver\'s IP address, within forwarding.allowedTargets.' }),
      audioPort: Type.Optional(Port),
      videoPort: Type.Optional(Port),
      srtp: Type.Optional(Type.Boolean({ description: 'Encrypt (AES_CM_128_HMAC_SHA1_80); the key is in the SDP.' })),
      keyframeIntervalMs: Type.Optional(Type.Integer({ minimum: 500, maximum: 60_000, description: 'Ask for a video key frame this often (a receiver that starts late needs one).' })),
    }, { additionalProperties: false }),
    responses: { 201: ForwardView },
    errors: [...ROOM_ERRORS, 'TARGET_NOT_ALLOWED', 'LIMIT_REACHED'],
    async handler({ evidence }, req, reply) {
      return reply.code(201).send(await evidence.forward(req.tenant, req.params.room, req.params.identity, req.body));
    },
  }),
  route({
    method: 'GET', url: '/v1/rooms/:room/forwards', summary: 'The RTP forwards running in the room.',
    params: RoomParams,
    responses: { 200: Type.Object({ forwards: Type.Array(ForwardView) }) },
    errors: ROOM_ERRORS,
    async handler({ evidence }, req) {
      return { forwards: await evidence.forwards(req.tenant, req.params.room) };
    },
  }),
  route({
    method: 'DELETE', url: '/v1/rooms/:room/forwards/:forwardId', summary: 'Stop a forward.',
    params: Type.Object({ room: RoomName, forwardId: Type.String({ maxLength: 64 }) }),
    responses: { 204: Type.Null() },
    errors: ROOM_ERRORS,
    async handler({ evidence }, req, reply) {
      await evidence.stopForward(req.tenant, req.params.room, req.params.forwardId);
      return reply.code(204).send();
    },
  }),
  route({
    method: 'POST', url: '/v1/rooms/:room/notes', summary: 'Write a note into the call\'s record, such as a triage bot\'s summary or the agreed remedy.',
    params: RoomParams,
    body: Type.Object({
      author: Note.properties.author, kind: Note.properties.kind, text: Note.properties.text, data: Type.Optional(Note.properties.data),
    }, { additionalProperties: false }),
    responses: { 201: Note },
    errors: [...ROOM_ERRORS, 'LIMIT_REACHED'],
    async handler({ evidence }, req, reply) {
      return reply.code(201).send(await evidence.addNote(req.tenant, req.params.room, { ...req.body, data: req.body.data ?? {} }));
    },
  }),
  route({
    method: 'GET', url: '/v1/files/:fileId',
    summary: 'Download a recording file or snapshot, with the API key or through a signed link (?tenant=&expires=&sig=, as recordings, snapshots and takeSnapshot answer). A file held by another node of the cluster is a 307 redirect to it.',
    params: Type.Object({ fileId: Type.String({ maxLength: 64 }) }),
    responses: { 200: Type.String({ description: 'The file (image/jpeg, audio/webm, video/webm or video/x-matroska).' }), 307: Type.Null() },
    errors: ['NOT_FOUND'],
    signedLink: true,
    async handler({ evidence }, req, reply) {
      const file = await evidence.file(req.tenant, req.params.fileId);
      if (!file) throw new CodedError('NOT_FOUND', `no file ${req.params.fileId}`);
      if (!evidence.isLocal(file)) return reply.redirect((await evidence.link(file)).url, 307);
      const stat = await fs.promises.stat(file.path).catch(() => undefined);
      if (!stat) throw new CodedError('NOT_FOUND', `file ${file.id} is gone from the disk (store.retentionDays, or removed)`);
      return reply.type(file.contentType).header('content-length', stat.size).header('cache-control', 'private, max-age=300').send(fs.createReadStream(file.path));
    },
  }),
];
