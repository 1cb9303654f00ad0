// The after-sales demo: a buyer and a seller in one room, using only the public SDK.
import { Call } from '/sdk/v1/sfu-client.js';

const $ = (sel) => document.querySelector(sel);
const params = new URLSearchParams(location.search);
const form = $('#join-form');
form.room.value = params.get('room') ?? 'ticket-1001';
form.name.value = params.get('name') ?? '';
if (params.get('role')) form.role.value = params.get('role');
if (params.get('language')) form.language.value = params.get('language');
if (params.get('captions') === 'off') form.captions.checked = false;

// Before joining: how near each region is, whether UDP gets through, and the devices. The
// nearest region goes into the token request, and the call connects to that region's node,
// when the check has finished by the time of joining. It never holds the join up: joining
// before it ends goes to this page's node, and the cluster places the call from there.
let nearest = { region: undefined, url: location.origin };
Call.preflight(location.origin).then((report) => {
  window.demo.preflight = report;
  const best = report.regions[0];
  if (best?.rttMs != null) nearest = { region: best.region, url: best.url };
  const problems = [report.camera, report.microphone].filter((d) => !d.ok).map((d) => d.reason);
  const transport = report.udp === false ? 'UDP is blocked: the call will go through TURN' : report.udp ? 'UDP works' : '';
  $('#preflight .summary').textContent = [best?.rttMs != null ? `Nearest region: ${best.name} (${best.rttMs} ms)` : 'No region answered', transport, ...problems].filter(Boolean).join(' · ');
  $('#preflight .regions').replaceChildren(...report.regions.map((r) => Object.assign(document.createElement('li'), { textContent: `${r.name}: ${r.rttMs == null ? 'unreachable' : `${r.rttMs} ms`}` })));
}, (err) => ($('#preflight .summary').textContent = `Check failed: ${err.message}`));
// Loaded while the check runs, not after it.
const config = await (await fetch('/demo/config.json')).json();
$('#token-field').hidden = config.devTokens;

let call;
const tiles = new Map();
const names = new Map();
let showCaptions = true;
window.demo = { get call() { return call; }, tiles, preflight: undefined };

/** The viewer's language, as a primary subtag (translations are keyed so). */
const mine = () => (call?.captions?.language ?? form.language.value).split('-')[0].toLowerCase();

function setState(state) {
  const el = $('#state');
  el.dataset.state = state;
  el.textContent = state;
}

function tile(id, { name, role, local = false }) {
  let el = tiles.get(id);
  if (!el) {
    el = $('#tile-template').content.firstElementChild.cloneNode(true);
    el.dataset.participant = id;
    el.classList.toggle('local', local);
    $('#tiles').append(el);
    tiles.set(id, el);
  }
  el.querySelector('.name').textContent = local ? `${name} (you)` : name;
  el.querySelector('.role').textContent = role;
  // Sellers (the snapshot grant) capture stills of the others' video as evidence for the ticket.
  const capture = el.querySelector('.capture');
  capture.hidden = local || !call?.self?.grants.snapshot;
  capture.onclick = () => snapshot(id, capture);
  return el;
}

function removeTile(id) {
  tiles.get(id)?.remove();
  tiles.delete(id);
}

/** The text in the viewer's language, if the node translated it (else why not), beside the original. */
function inMyLanguage({ language, translations, untranslated }) {
  if (!language || language.split('-')[0].toLowerCase() === mine()) return undefined;
  return translations?.[mine()] ?? (untranslated?.[mine()] ? `(not translated: ${untranslated[mine()]})` : undefined);
}

function addChat(who, text, own = false, system = false, message = {}) {
  const li = document.createElement('li');
  li.classList.toggle('mine', own);
  li.classList.toggle('system', system);
  const whoEl = document.createElement('span');
  whoEl.className = 'who';
  whoEl.textContent = who;
  li.append(whoEl, document.createTextNode(text));
  const translated = inMyLanguage(message);
  if (translated) li.append(Object.assign(document.createElement('span'), { className: 'translation', textContent: translated }));
  $('#chat-log').append(li);
  li.scrollIntoView({ block: 'nearest' });
}

async function token() {
  if (!config.devTokens) return form.token.value.trim();
  const res = await fetch('/demo/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      room: form.room.value, identity: `${form.role.value}-${crypto.randomUUID().slice(0, 8)}`, name: form.name.value, role: form.role.value,
      region: nearest.region, language: form.language.value, captions: form.captions.checked,
    }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error?.message ?? 'could not get a token');
  return body.token;
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('#join-error').textContent = '';
  form.querySelector('button').disabled = true;
  try {
    await join(await token());
  } catch (err) {
    $('#join-error').textContent = `${err.code ? `${err.code}: ` : ''}${err.message}`;
    form.querySelector('button').disabled = false;
  }
});

async function join(accessToken) {
  setState('connecting');
  // Listeners go on before start(): tracks of people already in the room arrive during it.
  call = new Call(nearest.url, accessToken);
  call.on('connectionState', setState);
  call.on('participantJoined', (p) => { names.set(p.id, p.name); tile(p.id, p); });
  call.on('participantLeft', (p) => removeTile(p.id));
  call.on('trackAdded', ({ participantId, kind, track }) => {
    const el = tile(participantId, call.participants.get(participantId) ?? { name: participantId, role: '' });
    el.querySelector(kind === 'video' ? 'video' : 'audio').srcObject = new MediaStream([track]);
  });
  call.on('trackRemoved', ({ participantId, kind }) => {
    const media = tiles.get(participantId)?.querySelector(kind === 'video' ? 'video' : 'audio');
    if (media) media.srcObject = null;
  });
  call.on('activeSpeaker', ({ participantId }) => {
    for (const [id, el] of tiles) el.classList.toggle('speaking', id === participantId);
  });
  call.on('qualityWarning', ({ participantId }) => {
    const warning = tiles.get(participantId)?.querySelector('.warning');
    if (!warning) return;
    warning.hidden = false;
    clearTimeout(warning.timer);
    warning.timer = setTimeout(() => (warning.hidden = true), 5000);
  });
  call.on('chat', (m) => addChat(names.get(m.participantId) ?? m.participantId, m.text, false, false, m));
  // Messages the platform sends into the call ("refund approved"), marked as such.
  call.on('systemMessage', (m) => addChat(m.from, m.text, false, true, m));
  call.on('caption', showCaption);
  call.on('captionsChanged', () => showCaptionsOn());
  call.on('captionStatus', ({ participantId, state, code, message }) => {
    if (state === 'unavailable' || state === 'restarting') addChat('system', `captions of ${names.get(participantId) ?? participantId}: ${state}${code ? ` (${code}: ${message})` : ''}`, false, true);
  });
  call.on('mutedByPlatform', ({ source, muted }) => {
    const button = source === 'microphone' ? $('#toggle-mic') : source === 'camera' ? $('#toggle-cam') : undefined;
    if (button) setToggle(button, muted);
    addChat('system', `the platform ${muted ? 'muted' : 'unmuted'} your ${source}`, false, true);
  });
  call.on('snapshotTaken', ({ participantId, takenBy }) => {
    const whose = participantId === call.self?.peerId ? 'your' : `${names.get(participantId) ?? participantId}'s`;
    addChat('system', `${names.get(takenBy) ?? takenBy} captured a photo of ${whose} video for the ticket`, false, true);
  });
  call.on('error', (err) => addChat('system', `${err.code}: ${err.message}`));

  form.hidden = true;
  $('#call').hidden = false;
  try {
    await call.start();
  } catch (err) {
    form.hidden = false;
    $('#call').hidden = true;
    throw err;
  }
  const me = call.self;
  names.set(me.peerId, form.name.value);
  // Tiles made while joining did not know the grants yet.
  for (const el of tiles.values()) el.querySelector('.capture').hidden = !me.grants.snapshot;
  showMetadata(call.metadata);
  showCaptionsOn();
  const local = tile(me.peerId, { name: form.name.value, role: me.role, local: true });
  try {
    const video = await call.publishCamera();
    local.querySelector('video').srcObject = new MediaStream([video]);
    await call.publishMicrophone();
  } catch (err) {
    addChat('system', `${err.code}: ${err.message}`);
  }
  setInterval(renderQuality, 2000);
}

/** Consent: everyone is told when what they say is transcribed (from the join, or when captions start mid-call). */
function showCaptionsOn() {
  const captions = call.captions;
  $('#captions-notice').hidden = !captions?.enabled;
  $('#toggle-captions').hidden = !captions?.enabled;
  $('#language-field').hidden = !captions?.enabled;
  $('#language').value = captions?.language.split('-')[0] ?? form.language.value;
}

/** A caption on the speaker's tile: the original, and below it the viewer's language. */
function showCaption(c) {
  const el = tiles.get(c.participantId)?.querySelector('.caption');
  if (!el) return;
  el.dataset.segment = c.segmentId;
  el.classList.toggle('interim', !c.final);
  el.querySelector('.original').textContent = c.text;
  el.querySelector('.translated').textContent = (c.final && inMyLanguage(c)) || '';
  el.hidden = !showCaptions || !c.text;
  clearTimeout(el.timer);
  // A final caption stays a while after the speech, then gives the picture back.
  if (c.final) el.timer = setTimeout(() => { if (el.dataset.segment === c.segmentId) el.hidden = true; }, 8000);
}

async function snapshot(participantId, button) {
  button.disabled = true;
  try {
    const s = await call.takeSnapshot(participantId);
    const li = document.createElement('li');
    const link = document.createElement('a');
    link.href = s.url;
    link.target = '_blank';
    const img = document.createElement('img');
    img.src = s.url;
    img.alt = `photo of ${names.get(participantId) ?? participantId}, ${new Date(s.takenAt).toLocaleTimeString()}`;
    img.dataset.snapshot = s.snapshotId;
    link.append(img);
    li.append(link);
    $('#snapshots').append(li);
    $('#evidence').hidden = false;
  } catch (err) {
    addChat('system', `${err.code}: ${err.message}`);
  } finally {
    button.disabled = false;
  }
}

async function renderQuality() {
  if (!call || call.state === 'disconnected') return;
  const rows = [];
  for (const p of await call.stats()) {
    const video = p.tracks.find((t) => t.kind === 'video');
    const bitrate = p.tracks.reduce((sum, t) => sum + t.bitrate, 0);
    const loss = Math.max(0, ...p.tracks.map((t) => t.lossRate));
    const cells = [
      p.local ? 'you (sending)' : names.get(p.participantId) ?? p.participantId,
      p.roundTripTime === undefined ? '–' : `${Math.round(p.roundTripTime * 1000)} ms`,
      `${(loss * 100).toFixed(1)} %`,
      `${Math.round(bitrate / 1000)} kb/s`,
      video?.framesPerSecond ?? '–',
      video?.frameWidth ? `${video.frameWidth}×${video.frameHeight}` : '–',
    ];
    const tr = document.createElement('tr');
    tr.dataset.participant = p.participantId;
    for (const c of cells) {
      const td = document.createElement('td');
      td.textContent = c;
      tr.append(td);
    }
    rows.push(tr);
  }
  $('#quality tbody').replaceChildren(...rows);
}

$('#chat-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = $('#chat-input');
  const text = input.value.trim();
  if (!text) return;
  input.value = '';
  addChat('you', text, true);
  await call.sendChat(text);
});

/** The room's business data from the platform (order, ticket, languages), if it set any. */
function showMetadata(metadata) {
  const entries = Object.entries(metadata ?? {});
  $('#ticket').hidden = entries.length === 0;
  const rows = entries.map(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = String(v);
    return [dt, dd];
  });
  $('#ticket dl').replaceChildren(...rows.flat());
}

const labels = { 'toggle-mic': ['Mute mic', 'Unmute mic'], 'toggle-cam': ['Stop camera', 'Start camera'] };
function setToggle(button, muted) {
  button.setAttribute('aria-pressed', String(muted));
  button.textContent = labels[button.id][muted ? 1 : 0];
}
function toggle(button, source) {
  button.addEventListener('click', async () => {
    const muted = button.getAttribute('aria-pressed') !== 'true';
    await call.setMuted(source, muted);
    setToggle(button, muted);
  });
}
toggle($('#toggle-mic'), 'microphone');
toggle($('#toggle-cam'), 'camera');
$('#switch-cam').addEventListener('click', async () => {
  const track = await call.switchCamera();
  tiles.get(call.self.peerId).querySelector('video').srcObject = new MediaStream([track]);
});
$('#toggle-captions').addEventListener('click', (ev) => {
  showCaptions = !showCaptions;
  ev.target.setAttribute('aria-pressed', String(!showCaptions));
  ev.target.textContent = showCaptions ? 'Hide captions' : 'Show captions';
  if (!showCaptions) for (const el of tiles.values()) el.querySelector('.caption').hidden = true;
});
$('#language').addEventListener('change', async (ev) => {
  try {
    await call.setLanguage(ev.target.value);
  } catch (err) {
    addChat('system', `${err.code}: ${err.message}`, false, true);
  }
});
$('#leave').addEventListener('click', async () => {
  await call.leave();
  for (const id of [...tiles.keys()]) removeTile(id);
  $('#call').hidden = true;
  form.hidden = false;
  form.querySelector('button').disabled = false;
  setState('left');
});
