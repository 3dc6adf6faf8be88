/*
 * Browser media of the phone page (?media=browser): this page's RTCPeerConnection is the WhatsApp user's
 * media. The emulator sends jobs over Server-Sent Events (GET /emulator/users/:waId/browser-media/jobs):
 * createOffer, answerOffer, applyAnswer, sendDtmf, playTone, stopSending, close; the page answers SDP jobs
 * with POST .../browser-media/jobs/:jobId and reports getStats() counters to POST .../browser-media/report.
 * What the user hears is kept (last few seconds) for a Goertzel tone check: window.phone.measureTone().
 * Plain browser JavaScript, no dependencies.
 */
(function () {
  'use strict';

  var REPORT_EVERY_MS = 1000;
  var GATHERING_TIMEOUT_MS = 5000;
  var KEEP_SECONDS = 4;

  /** Goertzel power of one frequency over the frame's energy (the same measure as the gateway's analyseTone). */
  function goertzelRatio(samples, frequencyHz, sampleRate) {
    var n = samples.length;
    if (n === 0) return 0;
    var k = Math.round((n * frequencyHz) / sampleRate);
    var coeff = 2 * Math.cos((2 * Math.PI * k) / n);
    var s1 = 0;
    var s2 = 0;
    var energy = 0;
    for (var i = 0; i < n; i++) {
      var x = samples[i];
      energy += x * x;
      var s0 = x + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    if (energy === 0) return 0;
    return (2 * (s1 * s1 + s2 * s2 - coeff * s1 * s2)) / (n * energy);
  }

  /** Counts 40 ms windows of `samples` where `frequencyHz` carries at least half the energy and it is not silence. */
  function analyseTone(samples, frequencyHz, sampleRate) {
    var win = Math.round(sampleRate * 0.04);
    var frames = 0;
    var framesWithTone = 0;
    var ratioSum = 0;
    for (var off = 0; off + win <= samples.length; off += win) {
      var frame = samples.subarray(off, off + win);
      var ratio = goertzelRatio(frame, frequencyHz, sampleRate);
      var loud = 0;
      for (var i = 0; i < frame.length; i++) loud += Math.abs(frame[i]);
      frames++;
      ratioSum += ratio;
      if (ratio >= 0.5 && loud / frame.length > 0.006) framesWithTone++;
    }
    return { frequencyHz: frequencyHz, frames: frames, framesWithTone: framesWithTone, meanRatio: frames ? ratioSum / frames : 0 };
  }

  function waitForGathering(pc) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise(function (resolve) {
      var timer = setTimeout(resolve, GATHERING_TIMEOUT_MS);
      pc.addEventListener('icegatheringstatechange', function () {
        if (pc.iceGatheringState !== 'complete') return;
        clearTimeout(timer);
        resolve();
      });
    });
  }

  function BrowserMedia(options) {
    this.base = options.base;
    this.waId = options.waId;
    this.onStatus = options.onStatus || function () {};
    this.call = null;
    this.mic = null;
    this.audio = null;
    this.heard = null;
    this.heardAt = 0;
    this.stream = null;
    this.jobsSeen = 0;
  }

  /** Opens the job stream (EventSource reconnects by itself). */
  BrowserMedia.prototype.start = function () {
    var self = this;
    this.stream = new EventSource(this.base + '/emulator/users/' + this.waId + '/browser-media/jobs');
    this.stream.addEventListener('ready', function () {
      self.onStatus('ready');
    });
    this.stream.addEventListener('job', function (ev) {
      self.jobsSeen++;
      self.handle(JSON.parse(ev.data));
    });
    this.stream.onerror = function () {
      self.onStatus('reconnecting');
    };
  };

  /** Microphone and audio context, ideally from a click (a user gesture lets audio play). */
  BrowserMedia.prototype.prepare = async function () {
    if (!this.audio) this.audio = new AudioContext({ sampleRate: 48000 });
    if (this.audio.state === 'suspended') await this.audio.resume();
    if (!this.mic) {
      // Raw capture: echo cancellation and noise suppression would treat a test tone as noise.
      this.mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
      });
    }
    return this.mic;
  };

  BrowserMedia.prototype.handle = async function (job) {
    try {
      var result = await this.run(job);
      if (job.replyExpected) await this.reply(job.jobId, result || {});
    } catch (err) {
      if (job.replyExpected) await this.reply(job.jobId, { error: String((err && err.message) || err) });
    }
  };

  BrowserMedia.prototype.run = async function (job) {
    var call = this.call && this.call.id === job.callId ? this.call : null;
    switch (job.kind) {
      case 'createOffer':
        call = await this.newCall(job.callId);
        await call.pc.setLocalDescription(await call.pc.createOffer());
        await waitForGathering(call.pc);
        return { sdp: call.pc.localDescription.sdp };
      case 'answerOffer':
        call = await this.newCall(job.callId, job.sdp);
        await call.pc.setLocalDescription(await call.pc.createAnswer());
        await waitForGathering(call.pc);
        return { sdp: call.pc.localDescription.sdp };
      case 'applyAnswer':
        if (!call) throw new Error('no peer connection for call ' + job.callId);
        await call.pc.setRemoteDescription({ type: 'answer', sdp: job.sdp });
        return {};
      case 'sendDtmf':
        if (!call || !call.sender.dtmf) throw new Error('no DTMF sender for call ' + job.callId);
        call.sender.dtmf.insertDTMF(job.digits, job.durationMs, 70);
        return {};
      case 'playTone':
        if (call) await call.sender.replaceTrack(this.toneTrack(job.frequencyHz));
        return {};
      case 'stopSending':
        if (call) await call.sender.replaceTrack(null);
        return {};
      case 'close':
        if (call) this.endCall();
        return {};
      default:
        throw new Error('unknown job ' + job.kind);
    }
  };

  /** A fresh peer connection for a call, sending the microphone; with an offer it is applied first. */
  BrowserMedia.prototype.newCall = async function (callId, offerSdp) {
    this.endCall();
    var mic = await this.prepare();
    var pc = new RTCPeerConnection({ iceServers: [] });
    var call = { id: callId, pc: pc, sender: null, timer: null, received: 0 };
    this.call = call;
    var self = this;
    pc.addEventListener('track', function (ev) {
      self.listen(ev.streams[0] || new MediaStream([ev.track]));
    });
    pc.addEventListener('connectionstatechange', function () {
      self.onStatus(pc.connectionState);
      self.report(call);
    });
    // Answering: apply the offer first so addTrack reuses its audio transceiver (sendrecv).
    if (offerSdp) await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    call.sender = pc.addTrack(mic.getAudioTracks()[0], mic);
    call.timer = setInterval(function () {
      self.report(call);
    }, REPORT_EVERY_MS);
    return call;
  };

  /** What the user hears: played by the <audio> element (Chrome decodes only played tracks) and recorded. */
  BrowserMedia.prototype.listen = function (stream) {
    var el = document.getElementById('remote-audio');
    if (el) {
      el.srcObject = stream;
      el.play().catch(function () {});
    }
    var ctx = this.audio;
    var keep = ctx.sampleRate * KEEP_SECONDS;
    var heard = new Float32Array(keep);
    this.heard = heard;
    this.heardAt = 0;
    var self = this;
    var source = ctx.createMediaStreamSource(stream);
    var tap = ctx.createScriptProcessor(2048, 1, 1);
    var mute = ctx.createGain();
    mute.gain.value = 0;
    tap.onaudioprocess = function (ev) {
      if (self.heard !== heard) return;
      var input = ev.inputBuffer.getChannelData(0);
      for (var i = 0; i < input.length; i++) heard[(self.heardAt + i) % keep] = input[i];
      self.heardAt += input.length;
    };
    source.connect(tap);
    tap.connect(mute);
    mute.connect(ctx.destination);
    this.tap = { source: source, tap: tap, mute: mute };
  };

  /** The newest `lastMs` of received audio, oldest first. */
  BrowserMedia.prototype.heardSamples = function (lastMs) {
    if (!this.heard) return new Float32Array(0);
    var keep = this.heard.length;
    var n = Math.min(this.heardAt, keep, Math.round((this.audio.sampleRate * lastMs) / 1000));
    var out = new Float32Array(n);
    for (var i = 0; i < n; i++) out[i] = this.heard[(this.heardAt - n + i) % keep];
    return out;
  };

  BrowserMedia.prototype.measureTone = function (frequencyHz, lastMs) {
    var rate = this.audio ? this.audio.sampleRate : 48000;
    return analyseTone(this.heardSamples(lastMs || 2000), frequencyHz, rate);
  };

  BrowserMedia.prototype.toneTrack = function (frequencyHz) {
    var osc = this.audio.createOscillator();
    var gain = this.audio.createGain();
    var dest = this.audio.createMediaStreamDestination();
    osc.frequency.value = frequencyHz;
    gain.gain.value = 0.25;
    osc.connect(gain);
    gain.connect(dest);
    osc.start();
    return dest.stream.getAudioTracks()[0];
  };

  BrowserMedia.prototype.setMicEnabled = function (enabled) {
    if (this.mic) this.mic.getAudioTracks().forEach(function (t) { t.enabled = enabled; });
  };

  BrowserMedia.prototype.stats = async function (pc) {
    var out = { packetsReceived: 0, packetsSent: 0 };
    var report = await pc.getStats();
    report.forEach(function (s) {
      if (s.kind !== 'audio') return;
      if (s.type === 'inbound-rtp') out.packetsReceived += s.packetsReceived || 0;
      if (s.type === 'outbound-rtp') out.packetsSent += s.packetsSent || 0;
    });
    return out;
  };

  BrowserMedia.prototype.report = async function (call) {
    try {
      var counts = await this.stats(call.pc);
      call.received = counts.packetsReceived;
      await fetch(this.base + '/emulator/users/' + this.waId + '/browser-media/report', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ callId: call.id, connectionState: call.pc.connectionState, packetsReceived: counts.packetsReceived, packetsSent: counts.packetsSent }),
      });
    } catch (err) {
      // a report lost while the call closes or the server restarts is superseded by the next one
    }
  };

  BrowserMedia.prototype.reply = function (jobId, body) {
    return fetch(this.base + '/emulator/users/' + this.waId + '/browser-media/jobs/' + jobId, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).catch(function () {});
  };

  /** Closes the current call's peer connection (the microphone stays open for the next call). */
  BrowserMedia.prototype.endCall = function () {
    var call = this.call;
    if (!call) return;
    this.call = null;
    clearInterval(call.timer);
    call.pc.close();
    if (this.tap) {
      this.tap.source.disconnect();
      this.tap.tap.disconnect();
      this.tap.mute.disconnect();
      this.tap = null;
    }
    this.onStatus('closed');
  };

  BrowserMedia.prototype.currentCall = function () {
    if (!this.call) return null;
    return { callId: this.call.id, connectionState: this.call.pc.connectionState, packetsReceived: this.call.received };
  };

  window.BrowserMedia = BrowserMedia;
  window.phoneAnalyseTone = analyseTone;
})();
