// What the chat and the inbox share: the API key, requests with it, problems shown
// to the user, the WebSocket protocol over a reconnecting socket, the event stream,
// and building DOM from data.
//
// Every text that comes from the bot or a user goes into the page as a text node
// (textContent), never as markup: a reply holding "<script>" shows those characters.
// The pages' Content-Security-Policy would stop an injected script anyway; this is
// the first line, not the only one.
"use strict";

const soni = (() => {
  const KEY_ITEM = "soni.apiKey";

  // -- building the page ----------------------------------------------------------

  /** An element with attributes and children (strings become text nodes). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  // How far the server's clock is ahead of this browser's, from the Date header of
  // the last API answer: countdowns run on the server's time, so a browser whose
  // clock is off neither closes a card early nor keeps it open late. The header
  // has whole seconds, so a difference under two seconds is taken for none.
  let skew = 0;

  function noteServerDate(response) {
    const date = Date.parse(response.headers.get("Date") || "");
    if (Number.isNaN(date)) return;
    const difference = date - Date.now();
    skew = Math.abs(difference) < 2000 ? 0 : difference;
  }

  /** The server's time now, as far as this page can tell (milliseconds). */
  function now() {
    return Date.now() + skew;
  }

  /** What a countdown shows: "4:59", "1:02:03". */
  function remaining(ms) {
    const total = Math.max(0, Math.ceil(ms / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  /** A server timestamp as local date and time, or "" when there is none. */
  function when(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
  }

  /** An option's label as the user should read it: its label, else its name. */
  function optionLabel(options, labels, index) {
    const label = labels && labels[index];
    return label || options[index];
  }

  /** A fresh random id (crypto.randomUUID needs a secure context; this does not). */
  function randomId() {
    const bytes = new Uint8Array(8);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // -- the API key ----------------------------------------------------------------

  const key = {
    get() {
      return sessionStorage.getItem(KEY_ITEM) || "";
    },
    set(value) {
      if (value) sessionStorage.setItem(KEY_ITEM, value);
      else sessionStorage.removeItem(KEY_ITEM);
    },
  };

  /**
   * Wire the page's key form (#key-form): saving or forgetting the key calls
   * onChange. needKey(true) shows the "enter your key" state.
   */
  function keyForm(onChange) {
    const form = document.getElementById("key-form");
    const input = document.getElementById("api-key");
    const notice = document.getElementById("key-needed");
    const forget = document.getElementById("forget-key");
    const state = document.getElementById("key-state");
    function shown() {
      state.textContent = key.get() ? "A key is set for this tab." : "No key set.";
      forget.hidden = !key.get();
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      key.set(input.value.trim());
      input.value = "";
      shown();
      onChange();
    });
    forget.addEventListener("click", () => {
      key.set("");
      shown();
      onChange();
    });
    shown();
    return {
      needKey(needed, message) {
        notice.hidden = !needed;
        document.body.classList.toggle("needs-key", needed);
        if (needed) {
          document.getElementById("settings").open = true;
          document.getElementById("key-needed-text").textContent =
            message ||
            (key.get()
              ? "This key was refused. Enter a valid API key."
              : "This server needs an API key. Enter your key to continue.");
          input.focus();
        }
      },
    };
  }

  // -- HTTP -------------------------------------------------------------------------

  /** A problem the server answered with (application/problem+json), or one of ours. */
  class Problem extends Error {
    constructor(status, body) {
      super((body && (body.detail || body.title)) || `HTTP ${status}`);
      this.status = status;
      this.body = body || {};
      this.type = (this.body.type || "").replace("urn:soni:problem:", "");
    }
  }

  function authHeaders(extra) {
    const headers = new Headers(extra || {});
    const value = key.get();
    if (value) headers.set("Authorization", `Bearer ${value}`);
    return headers;
  }

  /** fetch with the key; the body as JSON, or a Problem thrown. */
  async function api(path, options = {}) {
    const init = { ...options, headers: authHeaders(options.headers) };
    if (options.json !== undefined) {
      init.method = init.method || "POST";
      init.body = JSON.stringify(options.json);
      init.headers.set("Content-Type", "application/json");
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      throw new Problem(0, { title: "The server cannot be reached", detail: String(error) });
    }
    noteServerDate(response);
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = { detail: text };
    }
    if (!response.ok) throw new Problem(response.status, body);
    return body;
  }

  /** Show a problem (or clear it with null) in an element, as text. */
  function showProblem(node, problem) {
    node.replaceChildren();
    node.hidden = !problem;
    if (!problem) return;
    const body = problem.body || {};
    node.append(
      el("strong", { text: body.title || "Something went wrong" }),
      " ",
      el("span", { text: body.detail || problem.message || "" }),
    );
  }

  // -- the WebSocket protocol ---------------------------------------------------------

  /**
   * The WebSocket protocol over a connection that comes back: each instruction in a
   * session of its own, subscriptions made again after every reconnection.
   *
   * onStatus(state): "connecting", "open", "closed" (waiting to retry) or
   * "refused" (the handshake failed before opening and the caller should check
   * the key: onRefused decides whether to keep trying).
   */
  class Connection {
    constructor({ onStatus, onOpen, onRefused }) {
      this.onStatus = onStatus || (() => {});
      this.onOpen = onOpen || (() => {});
      this.onRefused = onRefused || (async () => true);
      this.calls = new Map();
      this.subscriptions = new Map();
      this.socket = null;
      this.delay = 0;
      this.timer = null;
      this.stopped = true;
      // Bumped by stop(): a close handler that awaited across a restart sees it
      // changed and leaves the new connection alone.
      this.generation = 0;
    }

    url() {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const value = key.get();
      const query = value ? `?api_key=${encodeURIComponent(value)}` : "";
      return `${scheme}//${location.host}/ws${query}`;
    }

    start() {
      this.stopped = false;
      this.delay = 0;
      this.connect();
    }

    stop() {
      this.stopped = true;
      this.generation += 1;
      clearTimeout(this.timer);
      const socket = this.socket;
      // Forgotten before it closes: its close handler then does nothing, so the
      // calls it carried are rejected here.
      this.socket = null;
      if (socket) socket.close();
      this.rejectCalls();
    }

    /** Fail every call waiting for a response: it will not come. */
    rejectCalls() {
      const calls = [...this.calls.values()];
      this.calls.clear();
      for (const call of calls) {
        call.reject(new Problem(0, { title: "Connection lost", detail: "try again" }));
      }
    }

    /** Start over: with another key, say. */
    restart() {
      this.stop();
      this.start();
    }

    connect() {
      clearTimeout(this.timer);
      this.onStatus("connecting");
      const socket = new WebSocket(this.url());
      this.socket = socket;
      let opened = false;
      socket.addEventListener("open", () => {
        opened = true;
        this.delay = 0;
        this.onStatus("open");
        for (const [sessionId, sub] of this.subscriptions) this.sendSubscribe(sessionId, sub);
        this.onOpen();
      });
      socket.addEventListener("message", (message) => this.receive(message.data));
      socket.addEventListener("close", async () => {
        if (this.socket !== socket) return;
        this.socket = null;
        this.rejectCalls();
        if (this.stopped) return;
        const generation = this.generation;
        if (!opened) {
          this.onStatus("refused");
          const retry = await this.onRefused();
          // Stopped or restarted meanwhile: another connection (or none) is wanted.
          if (!retry || generation !== this.generation || this.stopped) return;
        }
        this.onStatus("closed");
        // Backoff with jitter: 0.5 s doubling up to 10 s, so a server that restarts
        // is found again soon and one that is down is not hammered.
        this.delay = Math.min(10000, this.delay ? this.delay * 2 : 500);
        this.timer = setTimeout(() => this.connect(), this.delay * (0.75 + Math.random() / 2));
      });
    }

    get open() {
      return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
    }

    send(sessionId, name, args) {
      this.socket.send(
        JSON.stringify({
          session_id: sessionId,
          local_timestamp: new Date().toISOString(),
          payload: { type: "instruction", name, args: args || {} },
        }),
      );
    }

    /** Send an instruction; resolves with its result, rejects with a Problem. */
    call(name, args) {
      if (!this.open) {
        return Promise.reject(
          new Problem(0, { title: "Not connected", detail: "reconnecting; try again in a moment" }),
        );
      }
      const sessionId = `${name}-${randomId()}`;
      return new Promise((resolve, reject) => {
        this.calls.set(sessionId, { resolve, reject });
        this.send(sessionId, name, args);
      });
    }

    /** Follow a conversation's events, across reconnections. */
    subscribe(conversationId, onEvent, onSubscribed) {
      const sessionId = `sub-${randomId()}`;
      const sub = { conversationId, onEvent, onSubscribed: onSubscribed || (() => {}) };
      this.subscriptions.set(sessionId, sub);
      if (this.open) this.sendSubscribe(sessionId, sub);
      return () => this.subscriptions.delete(sessionId);
    }

    sendSubscribe(sessionId, sub) {
      this.send(sessionId, "subscribe", { conversation_id: sub.conversationId });
    }

    receive(data) {
      let frame;
      try {
        frame = JSON.parse(data);
      } catch {
        return;
      }
      const payload = frame.payload || {};
      const sub = this.subscriptions.get(frame.session_id);
      if (sub) {
        if (payload.type === "event") {
          sub.onEvent(payload);
          // After lagged the server ends the subscription: subscribe again.
          if (payload.event === "lagged" && this.open) this.sendSubscribe(frame.session_id, sub);
        } else if (payload.type === "response" && payload.ok) {
          sub.onSubscribed();
        }
        return;
      }
      const call = this.calls.get(frame.session_id);
      if (!call || payload.type !== "response") return;
      this.calls.delete(frame.session_id);
      if (payload.ok) call.resolve(payload.result);
      else call.reject(new Problem((payload.error || {}).status || 0, payload.error));
    }
  }

  // -- server-sent events ---------------------------------------------------------------

  /**
   * Follow GET /events with the key in a header (EventSource cannot send one),
   * coming back after the stream ends. onEvent(type, data); onStatus as Connection's;
   * onRefused(problem) for a 401. Returns a function that stops it.
   */
  function followEvents(path, { onEvent, onStatus, onRefused, onOpen }) {
    let stopped = false;
    let controller = null;
    let delay = 0;
    let timer = null;

    async function run() {
      controller = new AbortController();
      onStatus("connecting");
      let response;
      try {
        response = await fetch(path, { headers: authHeaders(), signal: controller.signal });
      } catch {
        return retry();
      }
      // Stopped while the request ran (another key, say): its answer is not ours.
      if (stopped) return;
      if (response.status === 401) {
        const body = await response.json().catch(() => null);
        if (stopped) return;
        onStatus("refused");
        onRefused(new Problem(401, body));
        return;
      }
      if (!response.ok || !response.body) return retry();
      delay = 0;
      onStatus("open");
      onOpen();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || stopped) break;
          buffer += value.replace(/\r\n?/g, "\n");
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            dispatch(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch {
        // aborted, or the connection broke: retried below unless stopped
      }
      retry();
    }

    function dispatch(block) {
      let type = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const at = line.indexOf(":");
        const field = at < 0 ? line : line.slice(0, at);
        const value = at < 0 ? "" : line.slice(at + 1).replace(/^ /, "");
        if (field === "event") type = value;
        else if (field === "data") data.push(value);
      }
      if (!data.length) return;
      try {
        onEvent(type, JSON.parse(data.join("\n")));
      } catch {
        // not JSON: nothing this page reads
      }
    }

    function retry() {
      if (stopped) return;
      onStatus("closed");
      delay = Math.min(10000, delay ? delay * 2 : 500);
      timer = setTimeout(run, delay * (0.75 + Math.random() / 2));
    }

    run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      if (controller) controller.abort();
    };
  }

  /** The connection indicator (#connection): what each state reads as. */
  function showConnection(state) {
    const node = document.getElementById("connection");
    const text = {
      connecting: "Connecting…",
      open: "Connected",
      closed: "Reconnecting…",
      refused: "Not connected",
    }[state];
    node.textContent = text || state;
    node.dataset.state = state;
  }

  /** A closed (or closing) confirmation's status, in words; both pages show them. */
  const OUTCOMES = Object.freeze({
    approved: "Approved",
    executing: "Approved · running",
    executed: "Approved · done",
    failed: "Approved · failed",
    interrupted: "Approved · outcome unknown",
    skipped: "Skipped",
    expired: "Expired",
    superseded: "Withdrawn",
    cancelled: "Withdrawn",
  });

  return {
    Connection,
    OUTCOMES,
    Problem,
    api,
    el,
    followEvents,
    key,
    keyForm,
    now,
    optionLabel,
    randomId,
    remaining,
    showConnection,
    showProblem,
    when,
  };
})();
