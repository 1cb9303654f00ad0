import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromWav, toWav } from '../../src/speech/wav.js';

/** One request the stub took, with what it found wrong in it (a test fails on any). */
export interface StubRequest {
  path: string;
  problems: string[];
  /** transcriptions: the form's fields, and the seconds of audio uploaded. */
  fields?: Record<string, string>;
  audioSeconds?: number;
  /** chat and speech: the JSON body. */
  json?: any;
}

/** The parts of a multipart/form-data body (RFC 7578): name → { filename?, type?, data }. */
function multipart(body: Buffer, contentType: string) {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) throw new Error('multipart without a boundary');
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts = new Map<string, { filename?: string; type?: string; data: Buffer }>();
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) throw new Error('multipart: unterminated part');
    const part = body.subarray(start + 2, next - 2); // past CRLF, before CRLF
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString();
    const name = /name="([^"]*)"/.exec(headers)?.[1];
    if (!name) throw new Error('multipart: a part without a name');
    parts.set(name, { filename: /filename="([^"]*)"/.exec(headers)?.[1], type: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1], data: part.subarray(headerEnd + 4) });
    at = next;
  }
  return parts;
}

/**
 * A local stand-in for an OpenAI-compatible service (the real one cannot be reached from
 * here). It checks each request the way the API documents it, bearer key, multipart upload
 * with a WAV file and the model, chat messages, speech parameters, records what it found
 * wrong, and answers with what the test tells it to.
 */
export class OpenAiStub {
  readonly requests: StubRequest[] = [];
  /** What /audio/transcriptions answers for an upload in `language`. */
  transcribe: (language: string, seconds: number) => string = () => 'hello';
  /** What /chat/completions answers for `text` asked from `from` to `to` (from the system message). */
  translate: (text: string, system: string) => string = (text) => `[translated] ${text}`;
  /** The whole message /chat/completions answers with (tool calls, for a dialogue engine), instead of `translate`'s text. */
  reply?: (body: any) => { content: string | null; tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> };
  /** Status to answer every request with instead (a failing service). */
  failWith?: number;

  private constructor(private readonly server: http.Server, readonly apiKey: string) {}

  static async start(apiKey = 'sk-test-stub-key'): Promise<OpenAiStub> {
    const server = http.createServer();
    const stub = new OpenAiStub(server, apiKey);
    server.on('request', (req, res) => void stub.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return stub;
  }

  get baseUrl() {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Every problem any request had. */
  get problems() {
    return this.requests.flatMap((r) => r.problems.map((p) => `${r.path}: ${p}`));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = new URL(req.url ?? '/', 'http://stub').pathname;
    const r: StubRequest = { path, problems: [] };
    this.requests.push(r);
    const answer = (status: number, payload: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(Buffer.isBuffer(payload) ? payload : JSON.stringify(payload));
    };
    if (req.method !== 'POST') r.problems.push(`method ${req.method}`);
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) r.problems.push(`authorization "${req.headers.authorization}"`);
    if (this.failWith) return answer(this.failWith, { error: { message: 'the stub was told to fail', type: 'server_error' } });
    try {
      if (path === '/v1/audio/transcriptions') return answer(200, { text: this.transcriptions(req, body, r) });
      if (path === '/v1/chat/completions') return answer(200, this.chat(req, body, r));
      if (path === '/v1/audio/speech') return answer(200, this.speech(req, body, r), 'audio/wav');
      r.problems.push('no such route');
      return answer(404, { error: { message: 'not found' } });
    } catch (err) {
      r.problems.push((err as Error).message);
      return answer(400, { error: { message: (err as Error).message } });
    }
  }

  private transcriptions(req: http.IncomingMessage, body: Buffer, r: StubRequest) {
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('multipart/form-data')) throw new Error(`content-type ${type}`);
    const parts = multipart(body, type);
    r.fields = Object.fromEntries([...parts].filter(([, p]) => p.filename === undefined).map(([k, p]) => [k, p.data.toString()]));
    const file = parts.get('file');
    if (!file?.filename) throw new Error('no file part with a filename');
    if (!r.fields.model) throw new Error('no model');
    const wav = fromWav(file.data);
    if (wav.sampleRate !== 16_000) r.problems.push(`sample rate ${wav.sampleRate}`);
    r.audioSeconds = wav.pcm.length / 2 / wav.sampleRate;
    if (r.audioSeconds < 0.2) r.problems.push(`only ${r.audioSeconds} s of audio`);
    return this.transcribe(r.fields.language ?? '', r.audioSeconds);
  }

  private chat(req: http.IncomingMessage, body: Buffer, r: StubRequest) {
    if (!req.headers['content-type']?.startsWith('application/json')) throw new Error(`content-type ${req.headers['content-type']}`);
    const json = (r.json = JSON.parse(body.toString()));
    if (typeof json.model !== 'string') throw new Error('no model');
    const messages = json.messages;
    if (!Array.isArray(messages) || !messages.every((m: any) => ['system', 'user', 'assistant'].includes(m?.role) && typeof m.content === 'string')) throw new Error('messages are not [{ role, content }]');
    const user = [...messages].reverse().find((m: any) => m.role === 'user');
    if (!user && !this.reply) throw new Error('no user message to translate');
    const system = messages.find((m: any) => m.role === 'system')?.content ?? '';
    if (json.tools !== undefined && (!Array.isArray(json.tools) || !json.tools.every((t: any) => t?.type === 'function' && typeof t.function?.name === 'string' && typeof t.function?.parameters === 'object'))) {
      throw new Error('tools are not [{ type: "function", function: { name, parameters } }]');
    }
    const message = this.reply ? { role: 'assistant', ...this.reply(json) } : { role: 'assistant', content: this.translate(user!.content, system) };
    return {
      id: `chatcmpl-${this.requests.length}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: json.model,
      choices: [{ index: 0, message, finish_reason: message.tool_calls?.length ? 'tool_calls' : 'stop' }],
    };
  }

  private speech(req: http.IncomingMessage, body: Buffer, r: StubRequest) {
    if (!req.headers['content-type']?.startsWith('application/json')) throw new Error(`content-type ${req.headers['content-type']}`);
    const json = (r.json = JSON.parse(body.toString()));
    for (const k of ['model', 'input', 'voice']) if (typeof json[k] !== 'string' || !json[k]) throw new Error(`no ${k}`);
    if (json.response_format !== 'wav') r.problems.push(`response_format ${json.response_format}`);
    // A tone as long as the text would take to say (80 ms a character), at 24 kHz as OpenAI's.
    const samples = Math.round(24_000 * 0.08 * json.input.length);
    const pcm = Buffer.alloc(samples * 2);
    for (let i = 0; i < samples; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 24_000)), i * 2);
    return toWav(pcm, 24_000);
  }

  close() {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
