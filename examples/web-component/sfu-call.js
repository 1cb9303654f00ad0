// <sfu-call>: an after-sales video call a shop front end drops into its page.
//
//   <script type="module" src="sfu-call.js"></script>
//   <sfu-call node="https://sfu.example.com" token-url="/my-backend/sfu-token?ticket=42"></sfu-call>
//
// It loads the SDK from the node, shows a Join button, then the call: your camera, the others,
// the state of the connection, camera and microphone, with buttons, and a readable sentence
// when something goes wrong (blocked or missing camera, service unreachable, expired link).
// Attributes: node (the node's URL), and token-url (your backend answers { token }) or token.
// Events: `sfu-state` ({ connection, camera, microphone }), `sfu-error` ({ code, message }) and,
// in a room with captions, `sfu-caption` (the SDK's caption event). In such a room it says so,
// and shows each speaker's captions: the original, and the text in this participant's language.

const MESSAGES = {
  MEDIA_PERMISSION_DENIED: 'Your camera and microphone are blocked for this page. Allow them (the icon in the address bar), then join again.',
  MEDIA_NOT_FOUND: 'No camera or microphone was found. Connect one and join again.',
  MEDIA_IN_USE: 'Your camera or microphone is in use by another application. Close it and join again.',
  MEDIA_UNAVAILABLE: 'This page cannot use a camera: it needs a secure (https) address.',
  CONNECTION_FAILED: 'The video service cannot be reached. Check your connection and try again.',
  TOKEN_EXPIRED: 'This call link has expired. Reload the page to get a new one.',
  TOKEN_INVALID: 'This call link is not valid. Reload the page to get a new one.',
  ROOM_FULL: 'This call is full.',
  NODE_UNAVAILABLE: 'The video service is busy. Try again in a minute.',
};
const readable = (err) => MESSAGES[err?.code] ?? `The call failed (${err?.code ?? 'error'}): ${err?.message ?? err}`;

const STYLE = `
  :host { display: block; font: 14px/1.4 system-ui, sans-serif; }
  .tiles { display: flex; flex-wrap: wrap; gap: 8px; }
  video { width: 240px; background: #111; border-radius: 6px; }
  .bar { display: flex; gap: 8px; align-items: center; margin: 8px 0; flex-wrap: wrap; }
  .state span { padding: 2px 6px; border-radius: 4px; background: #eee; }
  .error { color: #b00020; }
  [hidden] { display: none !important; }
  .notice { background: #fef3c7; padding: 4px 8px; border-radius: 4px; }
  .captions { list-style: none; padding: 0; margin: 8px 0; display: grid; gap: 4px; }
  .captions .translated { display: block; font-weight: 600; }
  .captions .interim { font-style: italic; opacity: .7; }
`;

class SfuCall extends HTMLElement {
  #call;
  #state = { connection: 'idle', camera: 'off', microphone: 'off' };

  connectedCallback() {
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = `<style>${STYLE}</style>
      <div class="bar">
        <button part="join" class="join">Join the call</button>
        <button class="camera" hidden>Camera off</button>
        <button class="microphone" hidden>Mute</button>
        <button class="leave" hidden>Leave</button>
      </div>
      <div class="state" aria-live="polite">Connection <span class="connection">idle</span>
        Camera <span class="cam">off</span> Microphone <span class="mic">off</span></div>
      <p class="error" role="alert" hidden></p>
      <p class="notice" role="status" hidden>Captions are on: what everyone says is transcribed and translated.</p>
      <ul class="captions" aria-live="polite" hidden></ul>
      <div class="tiles"><video class="me" autoplay playsinline muted hidden></video></div>`;
    root.querySelector('.join').onclick = () => this.join();
    root.querySelector('.leave').onclick = () => this.leave();
    root.querySelector('.camera').onclick = () => this.#toggle('camera');
    root.querySelector('.microphone').onclick = () => this.#toggle('microphone');
  }

  get state() {
    return { ...this.#state };
  }

  async join() {
    const $ = (s) => this.shadowRoot.querySelector(s);
    $('.join').disabled = true;
    this.#error(null);
    this.#set({ connection: 'connecting' });
    try {
      const node = this.getAttribute('node');
      const { connect } = await import(`${node}/sdk/v1/sfu-client.js`).catch(() => {
        throw Object.assign(new Error(`cannot load the SDK from ${node}`), { code: 'CONNECTION_FAILED' });
      });
      const token = this.getAttribute('token') ?? (await (await fetch(this.getAttribute('token-url'))).json()).token;
      this.#call = await connect(node, token);
      this.#call.on('connectionState', (connection) => this.#set({ connection }));
      this.#call.on('error', (err) => this.#error(err));
      this.#call.remoteTracks.forEach((t) => this.#show(t));
      this.#call.on('trackAdded', (t) => this.#show(t));
      this.#call.on('trackRemoved', ({ consumerId }) => this.shadowRoot.getElementById(consumerId)?.remove());
      this.#call.on('caption', (c) => this.#caption(c));
      const showCaptions = () => {
        const captions = this.#call.captions;
        $('.notice').hidden = !captions?.enabled;
        $('.captions').hidden = !captions?.enabled;
      };
      this.#call.on('captionsChanged', showCaptions);
      showCaptions();
      this.#set({ connection: this.#call.state });
      $('.leave').hidden = false;
      await this.#publish();
    } catch (err) {
      this.#error(err);
      if (!this.#call) {
        this.#set({ connection: 'idle' });
        $('.join').disabled = false;
      }
    }
  }

  async leave() {
    await this.#call?.leave();
    this.#call = undefined;
    for (const el of this.shadowRoot.querySelectorAll('.tiles > :not(.me)')) el.remove();
    this.shadowRoot.querySelector('.me').hidden = true;
    for (const s of ['.leave', '.camera', '.microphone']) this.shadowRoot.querySelector(s).hidden = true;
    this.shadowRoot.querySelector('.join').disabled = false;
    this.#set({ connection: 'idle', camera: 'off', microphone: 'off' });
  }

  // The camera and the microphone are asked for one by one: without a camera, the call goes on with the voice.
  async #publish() {
    const $ = (s) => this.shadowRoot.querySelector(s);
    let problem;
    try {
      const video = await this.#call.publishCamera();
      $('.me').srcObject = new MediaStream([video]);
      $('.me').hidden = false;
      $('.camera').hidden = false;
      this.#set({ camera: 'on' });
    } catch (err) {
      problem = err;
      this.#set({ camera: 'unavailable' });
    }
    try {
      await this.#call.publishMicrophone();
      $('.microphone').hidden = false;
      this.#set({ microphone: 'on' });
    } catch (err) {
      problem ??= err;
      this.#set({ microphone: 'unavailable' });
    }
    if (problem) this.#error(problem);
  }

  async #toggle(source) {
    const on = this.#state[source] === 'on';
    await this.#call.setMuted(source, on);
    this.#set({ [source]: on ? 'off' : 'on' });
    this.shadowRoot.querySelector(`.${source}`).textContent = source === 'camera' ? (on ? 'Camera on' : 'Camera off') : (on ? 'Unmute' : 'Mute');
  }

  // One line per speaker: its latest segment, interim until final, then with this participant's language.
  #caption(c) {
    if (!c.text) return; // speech began; its words follow
    const list = this.shadowRoot.querySelector('.captions');
    let li = [...list.children].find((el) => el.dataset.participant === c.participantId);
    if (!li) {
      li = document.createElement('li');
      li.dataset.participant = c.participantId;
      list.append(li);
    }
    const who = this.#call.participants.get(c.participantId)?.name ?? (c.participantId === this.#call.self?.peerId ? 'you' : c.participantId);
    const language = this.#call.captions?.language.split('-')[0];
    const translated = c.final && c.language.split('-')[0] !== language ? c.translations[language] : undefined;
    li.className = c.final ? 'final' : 'interim';
    li.replaceChildren(`${who}: ${c.text}`);
    if (translated) li.append(Object.assign(document.createElement('span'), { className: 'translated', textContent: translated }));
    this.dispatchEvent(new CustomEvent('sfu-caption', { detail: c }));
  }

  #show({ consumerId, kind, track }) {
    const el = document.createElement(kind);
    Object.assign(el, { id: consumerId, autoplay: true, playsInline: true, srcObject: new MediaStream([track]) });
    this.shadowRoot.querySelector('.tiles').append(el);
  }

  #set(change) {
    Object.assign(this.#state, change);
    const $ = (s) => this.shadowRoot.querySelector(s);
    $('.connection').textContent = this.#state.connection;
    $('.cam').textContent = this.#state.camera;
    $('.mic').textContent = this.#state.microphone;
    this.dispatchEvent(new CustomEvent('sfu-state', { detail: this.state }));
  }

  #error(err) {
    const el = this.shadowRoot.querySelector('.error');
    el.hidden = !err;
    el.textContent = err ? readable(err) : '';
    if (err) this.dispatchEvent(new CustomEvent('sfu-error', { detail: { code: err.code ?? 'ERROR', message: err.message } }));
  }
}

customElements.define('sfu-call', SfuCall);
