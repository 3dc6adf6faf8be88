// Agent console: an example CRM page that uses only the gateway's public API (see /docs).
//   GET  /v1/contacts                 the WhatsApp users the gateway has seen
//   GET  /v1/permissions/{waId}       call permission per user (the badge; the call icon is disabled on "refuse")
//   POST /v1/calls {to, agent}        call a user: 201 the call starts, 202 a permission request was sent
//   POST /v1/calls/{id}/hangup        hang up (also cancels a call waiting for permission)
//   POST /v1/calls/{id}/transfer      hand a connected call's desk-phone side to another extension
//   POST /v1/contacts/{waId}/call-button  send the user WhatsApp's "call us" button (their tap calls the business)
//   GET  /v1/calls                    calls already in progress when the page opens
//   GET  /v1/calls/{id}/voicemail     the voicemail a user left (the event's audioPath), played in the row
//   GET  /v1/cdrs?format=csv          today's call records as a CSV file (the "Today's calls" button)
//   GET  /v1/events?token=...         live events (Server-Sent Events): call.* (call.voicemail too) and permission.*
// Copy it freely: no framework, no build step.
'use strict';

(() => {
  const TOKEN_KEY = 'wagw.console.token';
  const AGENT_KEY = 'wagw.console.agent';
  const ADDED_KEY = 'wagw.console.addedNumbers';
  const $ = (id) => document.getElementById(id);

  /**
   * waId -> { waId, name, permission, call: { callId, phase, since, text }, note, voicemail: { mediaId, audioPath } }
   * (note: e.g. "call button sent")
   */
  const contacts = new Map();
  /** callId -> waId, so events without a waId still find their row. */
  const callOwner = new Map();
  let events = null; // the EventSource
  let incomingCallId = null;

  // ---- HTTP -----------------------------------------------------------------------------------------

  /** Calls the API with the bearer token; resolves { status, body } and throws on network errors. */
  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${localStorage.getItem(TOKEN_KEY)}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** The sentence of an error answer: { error: { code, message, retryAt? } }. */
  function describeError(res) {
    const err = (res.body && res.body.error) || {};
    const message = Array.isArray(err.message) ? err.message.join('; ') : err.message || `HTTP ${res.status}`;
    return err.retryAt ? `${message} (try again after ${new Date(err.retryAt).toLocaleString()})` : message;
  }

  function showError(text) {
    $('error').textContent = text || '';
    $('error').hidden = !text;
  }

  // ---- sign in / out --------------------------------------------------------------------------------

  async function signIn(token) {
    localStorage.setItem(TOKEN_KEY, token);
    const res = await api('GET', '/v1/contacts');
    if (res.status === 401) {
      localStorage.removeItem(TOKEN_KEY);
      $('login').hidden = false;
      showError('That token was refused. Use the gateway API token (signalling.apiToken).');
      return;
    }
    if (res.status !== 200) {
      $('login').hidden = false;
      return showError(describeError(res));
    }
    showError('');
    $('login').hidden = true;
    $('session').hidden = false;
    $('app').hidden = false;
    $('agent').value = localStorage.getItem(AGENT_KEY) || '1001';
    for (const c of res.body.contacts) addContact(c.waId, c.name);
    for (const waId of JSON.parse(localStorage.getItem(ADDED_KEY) || '[]')) addContact(waId);
    connectEvents();
    await loadActiveCalls();
  }

  function signOut() {
    localStorage.removeItem(TOKEN_KEY);
    if (events) events.close();
    location.reload();
  }

  // ---- contacts and permission badges ---------------------------------------------------------------

  /** Adds a row for a user (once) and loads its permission badge. */
  function addContact(waId, name) {
    const known = contacts.get(waId);
    if (known) {
      if (name && !known.name) {
        known.name = name;
        render(waId);
      }
      return known;
    }
    const contact = { waId, name, permission: null, call: null };
    contacts.set(waId, contact);
    const row = $('contact-row').content.firstElementChild.cloneNode(true);
    row.id = `contact-${waId}`;
    row.dataset.testid = `contact-${waId}`;
    for (const el of row.querySelectorAll('[data-role]')) el.dataset.testid = `${el.dataset.role}-${waId}`;
    row.querySelector('[data-role=call]').addEventListener('click', () => startCall(waId));
    row.querySelector('[data-role=hangup]').addEventListener('click', () => hangUp(waId));
    row.querySelector('[data-role=send-button]').addEventListener('click', () => sendCallButton(waId));
    row.querySelector('[data-role=voicemail]').addEventListener('click', () => playVoicemail(waId));
    row.querySelector('[data-role=transfer]').addEventListener('submit', (e) => {
      e.preventDefault();
      transfer(waId, row.querySelector('[data-role=transfer-to]').value.trim());
    });
    $('contacts').appendChild(row);
    $('empty').hidden = true;
    render(waId);
    loadPermission(waId);
    return contact;
  }

  async function loadPermission(waId) {
    const res = await api('GET', `/v1/permissions/${encodeURIComponent(waId)}`);
    if (res.status !== 200) return showError(`Permission of +${waId}: ${describeError(res)}`);
    contacts.get(waId).permission = res.body;
    render(waId);
  }

  /** The badge text for a permission state. */
  function badgeText(p) {
    if (!p) return '…';
    switch (p.state) {
      case 'granted-once': return p.expiresAt ? `once until ${new Date(p.expiresAt).toLocaleString()}` : 'once';
      case 'granted-always': return 'always';
      case 'declined': return 'never';
      default: return p.state; // none, requested, revoked, expired
    }
  }

  // ---- call status ----------------------------------------------------------------------------------

  const PHASE_TEXT = {
    'awaiting-permission': 'Awaiting permission…',
    dialing: 'Calling…',
    ringing: 'Ringing…',
    incoming: 'Incoming call',
    ending: 'Ending…',
  };

  /** Our display phase for a call record state (GET /v1/calls). */
  function phaseOf(state) {
    if (state === 'permission-pending') return 'awaiting-permission';
    if (state === 'offered') return 'incoming';
    if (state === 'dialing-pbx' || state === 'dialing-wa') return 'dialing';
    if (state === 'active') return 'connected';
    if (state === 'ending' || state === 'ended') return state;
    return 'ringing'; // ringing-pbx, ringing-wa, accepting
  }

  function setCall(waId, callId, phase, extra = {}) {
    const contact = addContact(waId);
    const current = contact.call;
    const busy = current && current.phase !== 'ended' && current.phase !== 'refused';
    if (busy && current.callId !== callId && phase === 'ended') return; // an older call's late event
    callOwner.set(callId, waId);
    contact.call = { ...contact.call, callId, phase, at: Date.now(), ...extra };
    render(waId);
  }

  function elapsed(since) {
    const s = Math.max(0, Math.floor((Date.now() - since) / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }

  /** Redraws one row from its contact. */
  function render(waId) {
    const c = contacts.get(waId);
    const row = $(`contact-${waId}`);
    if (!c || !row) return;
    row.querySelector('.name').textContent = c.name || `+${waId}`;
    row.querySelector('.number').textContent = c.name ? `+${waId}` : '';
    const badge = row.querySelector('[data-role=badge]');
    badge.textContent = badgeText(c.permission);
    badge.dataset.state = c.permission ? c.permission.state : 'loading';

    const call = c.call;
    const live = call && call.phase !== 'ended' && call.phase !== 'refused';
    const refused = c.permission && c.permission.decision.action === 'refuse';
    const button = row.querySelector('[data-role=call]');
    button.disabled = Boolean(live || refused || !c.permission);
    button.title = refused ? c.permission.decision.reason : live ? 'A call is in progress' : `Call +${waId}`;
    button.setAttribute('aria-label', button.title);
    row.querySelector('[data-role=hangup]').hidden = !live;
    row.querySelector('[data-role=send-button]').hidden = Boolean(live);
    row.querySelector('[data-role=transfer]').hidden = !(call && call.phase === 'connected');
    row.querySelector('[data-role=voicemail]').hidden = !(c.voicemail && c.voicemail.audioPath);

    const status = row.querySelector('[data-role=status]');
    status.dataset.state = call ? call.phase : 'idle';
    if (!call || (!live && c.note && c.noteAt > (call.at || 0))) status.textContent = c.note || '';
    else if (call.phase === 'connected') status.textContent = `Connected ${elapsed(call.since)}${connectedNotes(call)}`;
    else if (call.phase === 'ended') status.textContent = `Ended: ${call.text || 'call ended'}`;
    else if (call.phase === 'refused') status.textContent = call.text;
    else status.textContent = call.text || PHASE_TEXT[call.phase];
  }

  /** What else is true of a connected call: held by the desk phone, being or been transferred. */
  function connectedNotes(call) {
    const notes = [];
    if (call.held) notes.push('on hold');
    if (call.transferring) notes.push(`transferring to ${call.transferring}…`);
    else if (call.transferredTo) notes.push(`transferred to ${call.transferredTo}`);
    return notes.map((n) => ` · ${n}`).join('');
  }

  /** `sip:1002@pbx.example.com` reads as 1002. */
  function shortTarget(uri) {
    const m = /^sips?:([^@;]+)@/.exec(uri);
    return m ? m[1] : uri;
  }

  // ---- actions --------------------------------------------------------------------------------------

  async function startCall(waId) {
    const agent = $('agent').value.trim();
    if (!agent) return showError('Enter your phone (extension or SIP URI) first.');
    localStorage.setItem(AGENT_KEY, agent);
    showError('');
    const res = await api('POST', '/v1/calls', { to: `+${waId}`, agent });
    if (res.status === 201) setCall(waId, res.body.callId, phaseOf(res.body.state));
    else if (res.status === 202) setCall(waId, res.body.callId, 'awaiting-permission');
    else setCall(waId, `refused-${Date.now()}`, 'refused', { text: describeError(res) });
    loadPermission(waId);
  }

  /**
   * Sends the user a call button: their tap calls the business (no permission needed for their own call). Its
   * payload names the agent (`callback:<my phone>`): a route's entryPoints can ring that agent's phone for it.
   */
  async function sendCallButton(waId) {
    const agent = $('agent').value.trim();
    showError('');
    const res = await api('POST', `/v1/contacts/${encodeURIComponent(waId)}/call-button`, {
      bodyText: 'Tap the button to call us on WhatsApp.',
      displayText: 'Call us',
      ...(agent ? { payload: `callback:${agent}` } : {}),
    });
    if (res.status !== 201) return showError(`Call button to +${waId}: ${describeError(res)}`);
    const contact = contacts.get(waId);
    contact.note = `Call button sent (until ${new Date(res.body.expiresAt).toLocaleString()})`;
    contact.noteAt = Date.now();
    render(waId);
  }

  /**
   * Plays the voicemail the user left: the gateway fetches it from Meta (the CRM never holds Meta's token);
   * the audio element in the row gets it as a blob, since an <audio src> could not send the bearer token.
   */
  async function playVoicemail(waId) {
    const vm = contacts.get(waId).voicemail;
    if (!vm || !vm.audioPath) return;
    showError('');
    const res = await fetch(vm.audioPath, { headers: { authorization: `Bearer ${localStorage.getItem(TOKEN_KEY)}` } });
    if (!res.ok) {
      const text = await res.text();
      let body;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      return showError(`Voicemail of +${waId}: ${describeError({ status: res.status, body })}`);
    }
    const audio = $(`contact-${waId}`).querySelector('[data-role=voicemail-audio]');
    if (audio.src) URL.revokeObjectURL(audio.src);
    audio.src = URL.createObjectURL(await res.blob());
    audio.dataset.mediaId = res.headers.get('x-wa-media-id') || '';
    audio.dataset.state = 'loaded';
    audio.hidden = false;
    // the click is the user gesture autoplay needs; a page that may not play keeps the controls
    audio.play().catch(() => undefined);
  }

  async function hangUp(waId) {
    const call = contacts.get(waId).call;
    if (!call) return;
    const res = await api('POST', `/v1/calls/${encodeURIComponent(call.callId)}/hangup`);
    if (res.status !== 200) showError(describeError(res));
  }

  async function transfer(waId, to) {
    const call = contacts.get(waId).call;
    if (!call || !to) return showError('Enter the extension (or SIP URI) to transfer to.');
    showError('');
    const res = await api('POST', `/v1/calls/${encodeURIComponent(call.callId)}/transfer`, { to });
    if (res.status !== 202) return showError(describeError(res));
    setCall(waId, call.callId, call.phase, { transferring: shortTarget(to) });
  }

  /** Calls already in progress when the page opens. */
  async function loadActiveCalls() {
    const res = await api('GET', '/v1/calls');
    if (res.status !== 200) return;
    for (const rec of res.body.active) {
      if (rec.userWaId) setCall(rec.userWaId, rec.callId, phaseOf(rec.state), { since: rec.answeredAt || Date.now() });
    }
  }

  // ---- call records ---------------------------------------------------------------------------------

  /** Pages of today's CDRs the button follows at most (1,000 each); past them it says to use `wagw cdrs`. */
  const MAX_CDR_PAGES = 20;

  /** Today's CDRs (ended since local midnight) as one CSV file: GET /v1/cdrs?format=csv, every page. */
  async function downloadCdrs() {
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    const params = new URLSearchParams({ format: 'csv', limit: '1000', since: String(midnight.getTime()) });
    let csv = '';
    for (let page = 0; ; page++) {
      if (page === MAX_CDR_PAGES) return showError(`More than ${MAX_CDR_PAGES * 1000} calls today: export them with wagw cdrs or GET /v1/cdrs`);
      const res = await fetch(`/v1/cdrs?${params}`, { headers: { authorization: `Bearer ${localStorage.getItem(TOKEN_KEY)}` } });
      const text = await res.text();
      if (!res.ok) {
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        return showError(`Call records not downloaded: ${describeError({ status: res.status, body })}`);
      }
      // every page starts with the header line: kept once
      csv += page === 0 ? text : text.slice(text.indexOf('\r\n') + 2);
      const next = res.headers.get('x-next-cursor');
      if (!next) break;
      params.set('after', next);
    }
    const day = `${midnight.getFullYear()}-${String(midnight.getMonth() + 1).padStart(2, '0')}-${String(midnight.getDate()).padStart(2, '0')}`;
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    link.download = `calls-${day}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  }

  // ---- live events ----------------------------------------------------------------------------------

  /** Subscribes to /v1/events. EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed. */
  function connectEvents() {
    const token = encodeURIComponent(localStorage.getItem(TOKEN_KEY));
    events = new EventSource(`/v1/events?token=${token}`);
    const live = (state) => {
      $('live').dataset.state = state;
      $('live').textContent = state;
    };
    events.onopen = () => live('live');
    events.onerror = () => live(events.readyState === EventSource.CLOSED ? 'offline' : 'reconnecting');
    const types = ['call.incoming', 'call.ringing', 'call.connected', 'call.ended', 'call.held', 'call.resumed', 'call.transferred', 'call.transfer_failed', 'call.voicemail', 'call.follow_up_sent', 'permission.requested', 'permission.granted', 'permission.declined', 'permission.revoked', 'permission.expired'];
    // Handle events one at a time, in arrival order (some need an API lookup first).
    let queue = Promise.resolve();
    for (const type of types) {
      events.addEventListener(type, (msg) => {
        queue = queue.then(() => onEvent(JSON.parse(msg.data))).catch((err) => showError(`Event ${type}: ${err.message}`));
      });
    }
  }

  /** The row a call event belongs to: its waId, or the call we already know, or the record from the API. */
  async function ownerOf(data) {
    if (data.waId) return data.waId;
    if (callOwner.has(data.callId)) return callOwner.get(data.callId);
    const res = await api('GET', `/v1/calls/${encodeURIComponent(data.callId)}`);
    return res.status === 200 ? res.body.userWaId : undefined;
  }

  /** One CRM event: { id, type, at, data }. */
  async function onEvent(event) {
    const d = event.data;
    if (event.type.startsWith('permission.')) {
      addContact(d.waId);
      if (event.type === 'permission.requested' && d.callId) setCall(d.waId, d.callId, 'awaiting-permission');
      return loadPermission(d.waId);
    }
    if (event.type === 'call.follow_up_sent') {
      const contact = addContact(d.waId);
      contact.note = `Missed call: ${d.action === 'call_button' ? 'call button' : 'permission request'} sent`;
      contact.noteAt = Date.now();
      return render(d.waId);
    }
    if (event.type === 'call.voicemail') {
      if (!d.waId) return;
      const contact = addContact(d.waId, d.userName);
      contact.note = `Voicemail left ${new Date(event.at).toLocaleTimeString()} (media ${d.mediaId})`;
      contact.noteAt = Date.now();
      contact.voicemail = { mediaId: d.mediaId, audioPath: d.audioPath, at: event.at };
      return render(d.waId);
    }
    const waId = await ownerOf(d);
    if (!waId) return;
    if (event.type === 'call.incoming') {
      addContact(waId, d.userName);
      setCall(waId, d.callId, 'incoming');
      const via = d.entryPoint ? ` · from ${d.entryPoint === 'call_button' ? 'a call button' : 'a link'}${d.entryPayload ? ` (${d.entryPayload})` : ''}` : '';
      showIncoming(d.callId, `Incoming WhatsApp call from ${d.userName ? `${d.userName} (+${waId})` : `+${waId}`}${via}`);
    } else if (event.type === 'call.ringing') {
      setCall(waId, d.callId, 'ringing', { text: d.side === 'user' ? 'Ringing the customer…' : 'Ringing your phone…' });
    } else if (event.type === 'call.connected') {
      setCall(waId, d.callId, 'connected', { since: event.at });
    } else if (event.type === 'call.held' || event.type === 'call.resumed') {
      setCall(waId, d.callId, 'connected', { held: event.type === 'call.held' });
    } else if (event.type === 'call.transferred') {
      setCall(waId, d.callId, 'connected', { transferring: undefined, transferredTo: shortTarget(d.to), held: false });
    } else if (event.type === 'call.transfer_failed') {
      setCall(waId, d.callId, 'connected', { transferring: undefined });
      showError(`Transfer to ${shortTarget(d.to)} failed: ${d.cause}`);
    } else if (event.type === 'call.ended') {
      setCall(waId, d.callId, 'ended', { text: d.cause });
      if (incomingCallId === d.callId) showIncoming(null);
      loadPermission(waId);
    }
  }

  function showIncoming(callId, text) {
    incomingCallId = callId;
    $('incoming').hidden = !callId;
    $('incoming').dataset.callId = callId || '';
    $('incoming-text').textContent = text || '';
  }

  // ---- wiring ---------------------------------------------------------------------------------------

  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    signIn($('token').value.trim());
  });
  $('logout').addEventListener('click', signOut);
  $('cdrs').addEventListener('click', () => void downloadCdrs().catch((err) => showError(`Call records not downloaded: ${err.message}`)));
  $('incoming-dismiss').addEventListener('click', () => showIncoming(null));
  $('add').addEventListener('submit', (e) => {
    e.preventDefault();
    const waId = $('add-number').value.replace(/\D/g, '');
    if (waId.length < 6 || waId.length > 15) return showError('Enter a WhatsApp number in international format, e.g. +15552223333.');
    const added = new Set(JSON.parse(localStorage.getItem(ADDED_KEY) || '[]')).add(waId);
    localStorage.setItem(ADDED_KEY, JSON.stringify([...added]));
    $('add-number').value = '';
    showError('');
    addContact(waId);
  });
  // the running timer of connected calls
  setInterval(() => {
    for (const c of contacts.values()) if (c.call && c.call.phase === 'connected') render(c.waId);
  }, 1000);
  $('empty').hidden = false;

  const saved = localStorage.getItem(TOKEN_KEY);
  if (saved) {
    // no sign-in form while the remembered token is checked: it comes back only if the token is refused
    $('login').hidden = true;
    signIn(saved).catch((err) => {
      $('login').hidden = false;
      showError(`The gateway did not answer: ${err.message}`);
    });
  }
})();
