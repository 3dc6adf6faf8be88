/*
 * The WhatsApp user's phone (GET /phone/:waId): shows the simulated user's state from the control API
 * (polled every 500 ms), the call permission pop-up, the incoming business call, the call button, the
 * business's call buttons in the chat (a tap calls with the button's payload), the in-call timer and hang-up. On load it makes business calls wait for this page (behaviour incomingCall:
 * ignore) and sets the user's media mode: `browser` with ?media=browser (then phone-media.js makes this
 * page's RTCPeerConnection the user's media), `simulated` otherwise. Plain browser JavaScript.
 */
(function () {
  'use strict';

  var POLL_MS = 500;
  var CLOCK_SYNC_MS = 10000;
  var segments = location.pathname.split('/').filter(Boolean);
  var waId = decodeURIComponent(segments[segments.length - 1] || '');
  var mode = new URLSearchParams(location.search).get('media') === 'browser' ? 'browser' : 'simulated';
  var user = null;
  var skewMs = 0;
  var polls = 0;
  var busy = false;

  function byTestId(id) {
    return document.querySelector('[data-testid="' + id + '"]');
  }

  function show(id, visible) {
    document.getElementById(id).hidden = !visible;
  }

  function setError(message) {
    byTestId('error').textContent = message || '';
  }

  async function api(method, path, body) {
    var res = await fetch(path, {
      method: method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    var text = await res.text();
    var json = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      var message = json && json.error && json.error.message ? json.error.message : json && json.message ? String(json.message) : text;
      throw new Error(method + ' ' + path + ': ' + res.status + ' ' + message);
    }
    return json;
  }

  var userPath = '/emulator/users/' + encodeURIComponent(waId);
  var media =
    mode === 'browser'
      ? new window.BrowserMedia({
          base: '',
          waId: waId,
          onStatus: function (status) {
            byTestId('media-status').textContent = status;
          },
        })
      : null;

  /** A user action: one at a time, errors shown on the page, state refreshed afterwards. */
  async function act(run) {
    if (busy) return;
    busy = true;
    setError('');
    try {
      await run();
    } catch (err) {
      setError(err.message || String(err));
    } finally {
      busy = false;
      await refresh();
    }
  }

  function pad(n) {
    return n < 10 ? '0' + n : String(n);
  }

  function renderTimer() {
    var call = user && user.currentCall;
    var el = byTestId('call-timer');
    if (!call || call.state !== 'accepted' || call.connectedAt === null) {
      el.hidden = true;
      el.textContent = '00:00';
      return;
    }
    var s = Math.max(0, Math.floor((Date.now() + skewMs - call.connectedAt) / 1000));
    el.hidden = false;
    el.textContent = pad(Math.floor(s / 60)) + ':' + pad(s % 60);
  }

  /** What the phone shows for the user's current call: idle, outgoing, incoming or active. */
  function phase(call) {
    if (!call) return 'idle';
    if (call.state === 'accepted') return 'active';
    return call.direction === 'BUSINESS_INITIATED' ? 'incoming' : 'outgoing';
  }

  var LABELS = { idle: 'Idle', outgoing: 'Calling business\u2026', incoming: 'Incoming call from business', active: 'In call' };

  function renderPermission() {
    var p = user.permission;
    byTestId('permission-status').textContent =
      'Call permission: ' + p.status.replace('_', ' ') + (p.expiresAt ? ' until ' + new Date(p.expiresAt).toLocaleString() : '');
    var pending = user.pendingPermissionRequests.filter(function (r) {
      return r.state === 'pending';
    });
    var newest = pending[pending.length - 1];
    var popup = document.getElementById('permission-popup');
    popup.hidden = !newest;
    popup.dataset.requestId = newest ? newest.requestId : '';
  }

  /** The chat's call buttons that still work, newest first: the message text and the button; the list is rebuilt only when it changes. */
  function renderCallButtons() {
    var live = user.callButtons.filter(function (b) {
      return !b.expired;
    });
    var list = document.getElementById('call-buttons');
    var key = live
      .map(function (b) {
        return b.messageId;
      })
      .join(',');
    if (list.dataset.key === key) return;
    list.dataset.key = key;
    list.textContent = '';
    live.forEach(function (b) {
      var item = document.createElement('li');
      var text = document.createElement('p');
      text.textContent = b.bodyText;
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'btn call';
      button.dataset.testid = 'call-button-' + b.messageId;
      button.textContent = b.displayText;
      button.addEventListener('click', function () {
        return act(async function () {
          if (media) await media.prepare();
          await api('POST', userPath + '/tap-call-button', { messageId: b.messageId });
        });
      });
      item.appendChild(text);
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function render() {
    if (!user) return;
    document.getElementById('user-name').textContent = user.name;
    document.getElementById('wa-id').textContent = '+' + user.waId;
    var call = user.currentCall;
    var now = phase(call);
    var stateEl = byTestId('call-state');
    stateEl.dataset.state = now;
    stateEl.textContent = LABELS[now];
    show('idle-screen', now === 'idle');
    show('incoming-screen', now === 'incoming');
    show('in-call-screen', now === 'outgoing' || now === 'active');
    if (media) media.setMicEnabled(now === 'active' || now === 'outgoing');
    renderPermission();
    renderCallButtons();
    renderTimer();
    document.body.dataset.polls = String(polls);
  }

  async function syncClock() {
    var clock = await api('GET', '/emulator/clock');
    skewMs = clock.now - Date.now();
  }

  async function refresh() {
    try {
      user = await api('GET', userPath);
      polls++;
      render();
    } catch (err) {
      setError(err.message || String(err));
    }
  }

  async function pollLoop() {
    await refresh();
    setTimeout(pollLoop, POLL_MS);
  }

  function reply(choice) {
    return function () {
      var requestId = document.getElementById('permission-popup').dataset.requestId;
      return act(function () {
        return api('POST', userPath + '/permission-reply', requestId ? { choice: choice, requestId: requestId } : { choice: choice });
      });
    };
  }

  function bind() {
    byTestId('call-business').addEventListener('click', function () {
      return act(async function () {
        if (media) await media.prepare();
        await api('POST', userPath + '/call', {});
      });
    });
    byTestId('incoming-accept').addEventListener('click', function () {
      return act(async function () {
        if (media) await media.prepare();
        await api('POST', userPath + '/answer');
      });
    });
    byTestId('incoming-decline').addEventListener('click', function () {
      return act(function () {
        return api('POST', userPath + '/reject');
      });
    });
    byTestId('hangup').addEventListener('click', function () {
      return act(function () {
        return api('POST', userPath + '/hangup');
      });
    });
    byTestId('perm-allow-once').addEventListener('click', reply('allow_once'));
    byTestId('perm-always').addEventListener('click', reply('always_allow'));
    byTestId('perm-never').addEventListener('click', reply('never_allow'));
  }

  async function start() {
    byTestId('media-mode').textContent = mode === 'browser' ? 'Media: this browser (microphone and speaker)' : 'Media: simulated';
    byTestId('media-mode').dataset.mode = mode;
    bind();
    try {
      await api('POST', '/emulator/users', { waId: waId });
      await api('PUT', userPath + '/behaviour', { incomingCall: 'ignore', permissionRequest: 'none' });
      await api('PUT', userPath + '/media-mode', { mode: mode });
      await syncClock();
    } catch (err) {
      setError(err.message || String(err));
      return;
    }
    if (media) media.start();
    document.body.dataset.ready = 'true';
    setInterval(renderTimer, 250);
    setInterval(function () {
      syncClock().catch(function () {});
    }, CLOCK_SYNC_MS);
    await pollLoop();
  }

  /** Test and debugging hooks (Playwright reads them with page.evaluate). */
  window.phone = {
    waId: waId,
    mode: mode,
    user: function () {
      return user;
    },
    mediaCall: function () {
      return media ? media.currentCall() : null;
    },
    measureTone: function (frequencyHz, lastMs) {
      return media ? media.measureTone(frequencyHz, lastMs) : null;
    },
  };

  start();
})();
