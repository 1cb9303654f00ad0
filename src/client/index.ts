/**
 * Browser SDK: add a buyer–seller video call to a page.
 *
 *   const call = await connect('https://sfu.example.com', token);
 *   call.on('trackAdded', ({ track }) => attach(track));
 *   await call.publishCamera();
 *   await call.publishMicrophone();
 */
import { Call, type CallOptions } from './call.js';

export { Call } from './call.js';
export { signalingUrl } from '../contracts/url.js';
export type { Caption, CaptionStatus, Translations, CallEvents, CallOptions, ConnectionState, Participant, QualityWarning, RemoteTrack, Session, Snapshot, Source, VideoCodec } from './call.js';
export { SfuError } from './errors.js';
export { preflight } from './preflight.js';
export type { DeviceCheck, PreflightOptions, PreflightReport, RegionCheck } from './preflight.js';
export type { ParticipantStats, TrackStats } from './stats.js';

/** Connects to a node and joins the room named in the token. */
export async function connect(url: string, token: string, options?: CallOptions): Promise<Call> {
  const call = new Call(url, token, options);
  await call.start();
  return call;
}
