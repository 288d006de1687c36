// The chat page: one conversation over the WebSocket protocol (docs/web.md).
//
// What this tab sends comes back twice: as the instruction's response and as a
// `turn` event of the subscription, in either order. The response is rendered; the
// event it matches is dropped. Events nobody here asked for (a decision in the
// inbox, another tab) are rendered as they come.
"use strict";

(() => {
  const { el } = soni;
  const log = document.getElementById("log");
  const typing = document.getElementById("typing");
  const problem = document.getElementById("problem");
  const composer = document.getElementById("composer");
  const input = document.getElementById("message");

  const params = new URLSearchParams(location.search);
  let conversationId = params.get("c");
  if (!conversationId) {
    conversationId = soni.randomId();
    params.set("c", conversationId);
    history.replaceState(null, "", `${location.pathname}?${params}`);
  }
  document.getElementById("conversation-id").textContent = conversationId;
  document.title = `Chat ${conversationId} · soni`;

  const cards = new Map(); // confirmation id -> card
  let inFlight = 0; // instructions of this tab waiting for their response
  const owed = []; // replies (as JSON) of responses whose turn event is still to come
  const early = []; // turn events that came while this tab's instructions were in flight
  let lastReplies = "[]"; // the last replies shown, to catch up after a reconnection
  let subscribedOnce = false;

  // -- the log ---------------------------------------------------------------------

  function scrollDown() {
    log.lastElementChild?.scrollIntoView({ block: "end" });
  }

  function addMessage(who, text) {
    const label = who === "user" ? "You" : "Bot";
    log.append(
      el("li", { class: `message ${who}` }, el("span", { class: "who", text: label }), el("p", { text })),
    );
    scrollDown();
  }

  function addNote(text) {
    log.append(el("li", { class: "note", text }));
    scrollDown();
  }

  /** A turn's replies and cards: from a response (pending: list) or an event (a count). */
  function showTurn(replies, pending, status) {
    const asking = status === "awaiting_confirmation";
    const shown = (replies || []).filter((r) => !(asking && r.kind === "confirmation"));
    for (const reply of shown) addMessage("bot", reply.text);
    if (replies && replies.length) lastReplies = JSON.stringify(replies);
    for (const item of Array.isArray(pending) ? pending : []) upsertCard(item);
    // A question the cards do not show (after a restart, say) stays readable.
    if (asking && !Array.isArray(pending)) sync();
  }

  // -- confirmation cards ------------------------------------------------------------

  const OUTCOMES = {
    approved: "Approved",
    executing: "Approved · running",
    executed: "Approved · done",
    failed: "Approved · failed",
    interrupted: "Approved · outcome unknown",
    skipped: "Skipped",
    expired: "Expired",
    superseded: "Withdrawn",
    cancelled: "Withdrawn",
  };

  function upsertCard(item) {
    let card = cards.get(item.id);
    if (card) {
      if (item.token !== undefined) card.token = item.token;
      if (item.expires_at) card.expiresAt = Date.parse(item.expires_at);
      tick(card);
      return card;
    }
    const options = item.options || [];
    const labels = item.labels || [];
    const buttons = el("div", { class: "card-actions", role: "group", "aria-label": "Decide" });
    const status = el("p", { class: "card-status", "aria-live": "polite" });
    const expiry = el("p", { class: "expiry" });
    card = {
      id: item.id,
      token: item.token ?? null,
      options,
      labels,
      state: "open",
      expiresAt: item.expires_at ? Date.parse(item.expires_at) : null,
      buttons,
      status,
      expiry,
    };
    if (options.length === 1) {
      buttons.append(
        el("button", { type: "button", class: "approve", onclick: () => decide(card, "approve") }, "Approve"),
        el("button", { type: "button", class: "skip", onclick: () => decide(card, "skip") }, "Skip"),
      );
    } else {
      options.forEach((option, index) => {
        buttons.append(
          el(
            "button",
            { type: "button", class: "option", "data-option": option, onclick: () => decide(card, option) },
            soni.optionLabel(options, labels, index),
          ),
        );
      });
      buttons.append(el("button", { type: "button", class: "skip", onclick: () => decide(card, "skip") }, "Skip"));
    }
    const titleId = `card-${soni.randomId()}`;
    card.node = el(
      "li",
      { class: "card", "data-state": "open", "data-confirmation": item.id },
      el(
        "article",
        { "aria-labelledby": titleId },
        el("p", { class: "card-kind", text: options.length === 1 ? "Confirmation" : "Choice" }),
        el("p", { class: "card-prompt", id: titleId, text: item.prompt || "" }),
        buttons,
        expiry,
        status,
      ),
    );
    cards.set(item.id, card);
    log.append(card.node);
    tick(card);
    scrollDown();
    return card;
  }

  function actorText(actor) {
    if (!actor) return "";
    const who = actor.user_id || "someone";
    return ` by ${who} via ${actor.channel}`;
  }

  // A later report never takes a card back: "approved" after "executed" (the event
  // and the response cross) leaves it done.
  const RANK = { open: 0, approved: 1, executing: 2 };

  /** Close a card: its buttons go, and it says what happened. */
  function settle(card, state, { decision, actor } = {}) {
    if ((RANK[state] ?? 3) < (RANK[card.state] ?? 3)) return;
    card.state = state;
    card.node.dataset.state = state;
    card.buttons.hidden = true;
    card.expiry.hidden = true;
    let text = OUTCOMES[state] || state;
    const index = card.options.indexOf(decision);
    if (card.options.length > 1 && index >= 0 && state !== "skipped") {
      text = text.replace("Approved", `Chose “${soni.optionLabel(card.options, card.labels, index)}”`);
    }
    card.status.textContent = text + actorText(actor || card.actor);
    if (actor) card.actor = actor;
  }

  function tick(card) {
    if (card.state !== "open") return;
    if (card.expiresAt === null) {
      card.expiry.textContent = "";
      return;
    }
    const left = card.expiresAt - Date.now();
    if (left <= 0) {
      // The server records the expiry within seconds (confirmation_expired); the
      // decision would be refused from now on anyway.
      settle(card, "expired");
      return;
    }
    card.expiry.textContent = `Expires in ${soni.remaining(left)}`;
    if (!card.token) {
      card.status.textContent = "Reply in the chat or use the buttons (they answer as a message).";
    }
  }

  setInterval(() => {
    for (const card of cards.values()) tick(card);
  }, 1000);

  async function decide(card, decision) {
    if (card.state !== "open") return;
    for (const button of card.buttons.querySelectorAll("button")) button.disabled = true;
    card.status.textContent = "Sending…";
    soni.showProblem(problem, null);
    if (!card.token) {
      // The server restarted and no longer knows this card's token: answer in the
      // chat instead, as a user typing would.
      const text = decision === "approve" ? "/affirm" : decision === "skip" ? "/deny" : `/choose ${decision}`;
      await send(text, { echo: false });
      return;
    }
    try {
      const result = await own(conn.call("decide", { token: card.token, decision }));
      const record = result.confirmation || {};
      settle(card, record.status || (result.decision === "skip" ? "skipped" : "approved"), {
        decision: result.decision,
        actor: record.decided_by,
      });
      showTurn(result.replies, result.pending, result.status);
    } catch (error) {
      const body = error.body || {};
      if (error.type === "already-decided") {
        settle(card, body.confirmation_status || "approved", { decision: body.decision, actor: body.decided_by });
      } else if (error.type === "confirmation-expired") {
        settle(card, "expired");
      } else if (error.type === "confirmation-closed") {
        settle(card, body.confirmation_status || "cancelled");
      } else {
        for (const button of card.buttons.querySelectorAll("button")) button.disabled = false;
        card.status.textContent = "";
        soni.showProblem(problem, error);
      }
    }
  }

  /** Bring the cards up to date with the server's records (open ones get tokens). */
  async function sync() {
    let listing;
    try {
      listing = await soni.api(`/conversations/${encodeURIComponent(conversationId)}/confirmations`);
    } catch (error) {
      if (error.status === 401) keys.needKey(true);
      return;
    }
    for (const record of listing.confirmations) {
      const open = record.status === "pending" || record.status === "shown";
      const card = cards.get(record.id);
      if (open) upsertCard(record);
      else if (card && card.state === "open") {
        settle(card, record.status, { decision: record.decision, actor: record.decided_by });
      }
    }
  }

  // -- this tab's instructions and the subscription's events -----------------------

  /** Track an instruction of this tab: its response's replies are rendered by the caller. */
  async function own(promise) {
    inFlight += 1;
    try {
      const result = await promise;
      const replies = JSON.stringify(result.replies || []);
      const at = early.findIndex((event) => JSON.stringify(event.data.replies || []) === replies);
      if (at >= 0) early.splice(at, 1);
      else owed.push(replies);
      return result;
    } finally {
      inFlight -= 1;
      if (inFlight === 0) {
        // What came meanwhile and was not ours.
        for (const event of early.splice(0)) onTurnEvent(event);
      }
    }
  }

  function onTurnEvent(event) {
    const data = event.data || {};
    const replies = JSON.stringify(data.replies || []);
    const at = owed.indexOf(replies);
    if (at >= 0) {
      owed.splice(at, 1);
      return;
    }
    if (inFlight > 0) {
      early.push(event);
      return;
    }
    showTurn(data.replies, data.pending, data.status);
  }

  function onEvent(event) {
    const data = event.data || {};
    const card = cards.get(data.confirmation_id);
    switch (event.event) {
      case "turn":
        onTurnEvent(event);
        break;
      case "confirmation_requested":
        if (!card && inFlight === 0) sync();
        break;
      case "confirmation_decided":
        if (card) settle(card, data.status, { decision: data.decision, actor: data.actor });
        break;
      case "action_executed":
        if (card) settle(card, data.ok ? "executed" : "failed", { decision: data.action });
        break;
      case "action_interrupted":
        if (card) settle(card, "interrupted", { decision: data.action });
        break;
      case "confirmation_expired":
        if (card) settle(card, "expired");
        break;
      case "session_removed":
        if (data.reason === "reset") addNote("This conversation was reset.");
        break;
      default:
        break;
    }
  }

  async function send(text, { echo = true } = {}) {
    soni.showProblem(problem, null);
    if (echo) addMessage("user", text);
    typing.hidden = false;
    try {
      const result = await own(conn.call("message", { conversation_id: conversationId, text }));
      showTurn(result.replies, result.pending, result.status);
    } catch (error) {
      soni.showProblem(problem, error);
      if (error.status === 401) keys.needKey(true);
    } finally {
      typing.hidden = inFlight === 0;
    }
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });

  // -- start, and come back -----------------------------------------------------------

  /** Whether the server takes our key: false shows the "enter your key" state. */
  async function keyAccepted() {
    try {
      await soni.api(`/conversations/${encodeURIComponent(conversationId)}`);
    } catch (error) {
      if (error.status === 401) {
        keys.needKey(true);
        return false;
      }
    }
    return true;
  }

  /** What the conversation last said, and its open confirmations (a reload, a reconnection). */
  async function catchUp() {
    let conversation;
    try {
      conversation = await soni.api(`/conversations/${encodeURIComponent(conversationId)}`);
    } catch (error) {
      if (error.status === 401) keys.needKey(true);
      else if (error.status !== 404) soni.showProblem(problem, error);
      return;
    }
    keys.needKey(false);
    const replies = JSON.stringify(conversation.replies || []);
    if (replies !== lastReplies) showTurn(conversation.replies, null, conversation.status);
    await sync();
  }

  const conn = new soni.Connection({
    onStatus: (state) => {
      soni.showConnection(state);
      document.getElementById("send").disabled = state !== "open";
    },
    onRefused: keyAccepted,
    onOpen: () => keys.needKey(false),
  });

  conn.subscribe(conversationId, onEvent, () => {
    // Subscribed: nothing published from now on is missed. What happened while this
    // tab was not connected is read back from the conversation.
    if (subscribedOnce) catchUp();
    subscribedOnce = true;
  });

  const keys = soni.keyForm(() => {
    keys.needKey(false);
    catchUp();
    conn.restart();
  });

  document.getElementById("new-conversation").href = `/?c=${soni.randomId()}`;
  catchUp().then(() => conn.start());
})();
