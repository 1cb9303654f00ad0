import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { RequestEnvelope, requests, type ClientRequest, type RequestMethod } from '../contracts/protocol.js';
import { CodedError } from '../common/errors.js';
import { MAX_FRAME_DEPTH } from './close-codes.js';

const envelopeCheck = TypeCompiler.Compile(RequestEnvelope);
const dataChecks = Object.fromEntries(
  Object.entries(requests).map(([method, def]) => [method, TypeCompiler.Compile(def.data as TSchema)]),
) as Record<RequestMethod, TypeCheck<TSchema>>;

const isMethod = (m: string): m is RequestMethod => Object.hasOwn(requests, m);

function describe(check: TypeCheck<TSchema>, value: unknown, where: string) {
  const e = check.Errors(value).First();
  return `${where}${e?.path || ''}: ${e?.message ?? 'invalid'}`;
}

/**
 * Parses one frame into a typed request. Throws CodedError carrying the request id
 * when one could be read, so the error response can be matched by the client.
 */
export function parseRequest(text: string): ClientRequest {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    throw new RequestError(null, 'BAD_JSON', 'the frame is not valid JSON');
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
    throw new RequestError(null, 'BAD_JSON', 'the frame must be a JSON object');
  }
  const rawId = (frame as { id?: unknown }).id;
  const id = Number.isSafeInteger(rawId) && (rawId as number) >= 0 ? (rawId as number) : null;
  // Nothing deeper than this is ever kept, echoed or serialised again.
  if (nestingDepth(text) > MAX_FRAME_DEPTH) throw new RequestError(id, 'BAD_REQUEST', `the frame is nested deeper than ${MAX_FRAME_DEPTH} levels`);
  if (!envelopeCheck.Check(frame)) throw new RequestError(id, 'BAD_REQUEST', describe(envelopeCheck, frame, 'envelope'));
  if (!isMethod(frame.method)) throw new RequestError(id, 'UNKNOWN_METHOD', `unknown method ${JSON.stringify(frame.method)}`);
  const data = frame.data ?? {};
  const check = dataChecks[frame.method];
  if (!check.Check(data)) throw new RequestError(id, 'BAD_REQUEST', describe(check, data, `${frame.method} data`));
  return { type: 'request', id: frame.id, method: frame.method, data } as ClientRequest;
}

export class RequestError extends CodedError {
  constructor(readonly requestId: number | null, code: CodedError['code'], message: string) {
    super(code, message);
  }
}

/** How deeply objects and arrays nest in a JSON text (strings are skipped). */
export function nestingDepth(json: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) max = Math.max(max, ++depth);
    else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return max;
}
