// The chat page: one conversation over the WebSocket protocol (docs/web.md).
//
// What this tab sends comes back twice: as the instruction's response and as a
// `turn` event of the subscription, in either order. The response is rendered; the
// event it matches is dropped. Events nobody here asked for (a decision in the
// inbox, another tab) are rendered as they come.
//
// Confirmations that are withdrawn (the user said "cancel", a reset, a turn that
// asked something else) are not announced as events: after every turn while a card
// is open, the cards are read back from the server.
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
  let owed = []; // {replies (as JSON), at} of responses whose turn event is still to come
  const early = []; // turn events that came while this tab's instructions were in flight
  let lastReplies = "[]"; // the last replies shown, to catch up after a reconnection
  let subscribedOnce = false;
  // Bumped when the key changes: an answer read with the previous key is dropped.
  let epoch = 0;

  // A turn's event follows its response within milliseconds; one not seen by then
  // is lost (the connection dropped), and its entry must not swallow a later turn
  // that happens to say the same.
  const OWED_MS = 10000;

  function forgetStaleOwed() {
    const oldest = Date.now() - OWED_MS;
    owed = owed.filter((entry) => entry.at >= oldest);
  }

  /** Take everything off the page: it belonged to the previous key's user. */
  function clearConversation() {
    epoch += 1;
    log.replaceChildren();
    cards.clear();
    owed = [];
    early.length = 0;
    lastReplies = "[]";
    typing.hidden = true;
  }

  /** The server refused the key: nothing of the conversation stays on screen. */
  function refused() {
    clearConversation();
    keys.needKey(true);
  }

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
    // A question the cards do not show (after a restart, say) stays readable; an
    // open card may have been withdrawn by this turn, which no event says.
    if ((asking && !Array.isArray(pending)) || anyOpen()) sync();
  }

  function anyOpen() {
    for (const card of cards.values()) if (card.state === "open") return true;
    return false;
  }

  // -- confirmation cards ------------------------------------------------------------

  const OUTCOMES = soni.OUTCOMES;

  function upsertCard(item) {
    let card = cards.get(item.id);
    if (card) {
      // A listing without a token (a server restarted with another secret) does
      // not make the one this card has invalid: the server still knows it by its
      // hash.
      if (item.token) card.token = item.token;
      if (item.expires_at) card.expiresAt = Date.parse(item.expires_at);
      tick(card);
      return card;
    }
    const options = item.options || [];
    const labels = item.labels || [];
    const buttons = el("div", { class: "card-actions", role: "group", "aria-label": "Decide" });
    // Where focus goes once the card is decided (its buttons are gone).
    const status = el("p", { class: "card-status", "aria-live": "polite", tabindex: -1 });
    const expiry = el("p", { class: "expiry" });
    card = {
      id: item.id,
      token: item.token || null,
      options,
      labels,
      state: "open",
      expiring: false, // its countdown ended; the server has not said so yet
      deciding: false, // this tab sent a decision
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
    // Focus follows the card when it was on it, or was lost when the clicked button
    // was disabled; never taken from elsewhere (the message box, say).
    const active = document.activeElement;
    const lost = !active || active === document.body;
    const hadFocus = card.node.contains(active) || (card.deciding && lost);
    card.deciding = false;
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
    if (hadFocus && card.node.isConnected) card.status.focus();
  }

  function enableButtons(card, enabled) {
    for (const button of card.buttons.querySelectorAll("button")) button.disabled = !enabled;
  }

  function tick(card) {
    if (card.state !== "open") return;
    if (card.expiresAt === null) {
      card.expiry.textContent = "";
      return;
    }
    const left = card.expiresAt - soni.now();
    if (left <= 0) {
      // The server decides when it expired, and says so (confirmation_expired, or
      // a listing): this page's clock may be off, and the server may yet report a
      // decision made in time.
      if (!card.expiring) {
        card.expiring = true;
        card.node.dataset.state = "expiring";
        enableButtons(card, false);
      }
      card.expiry.textContent = "Expiring…";
      return;
    }
    if (card.expiring) {
      // The server's time, learnt since, says it is still open.
      card.expiring = false;
      card.node.dataset.state = "open";
      if (!card.deciding) enableButtons(card, true);
    }
    card.expiry.textContent = `Expires in ${soni.remaining(left)}`;
    if (!card.token) {
      card.status.textContent = "Reply in the chat or use the buttons (they answer as a message).";
    }
  }

  setInterval(() => {
    for (const card of cards.values()) tick(card);
  }, 1000);

  /** The decision could not be sent: the card can be decided again. */
  function undecided(card) {
    card.deciding = false;
    if (card.state !== "open") return;
    enableButtons(card, !card.expiring);
    card.status.textContent = "";
  }

  async function decide(card, decision) {
    if (card.state !== "open" || card.expiring) return;
    enableButtons(card, false);
    card.deciding = true;
    card.status.textContent = "Sending…";
    soni.showProblem(problem, null);
    if (!card.token) {
      // This page never learnt the card's token (a server that restarted with
      // another secret lists none): answer in the chat instead, as a user typing
      // would. The turn's sync settles the card.
      const text = decision === "approve" ? "/affirm" : decision === "skip" ? "/deny" : `/choose ${decision}`;
      if (!(await send(text, { echo: false }))) undecided(card);
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
        undecided(card);
        soni.showProblem(problem, error);
        if (error.status === 401) refused();
      }
    }
  }

  /** Bring the cards up to date with the server's records (open ones get tokens). */
  async function sync() {
    const asked = epoch;
    let listing;
    try {
      listing = await soni.api(`/conversations/${encodeURIComponent(conversationId)}/confirmations`);
    } catch (error) {
      if (asked === epoch && error.status === 401) refused();
      return;
    }
    if (asked !== epoch) return;
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
      else {
        forgetStaleOwed();
        owed.push({ replies, at: Date.now() });
      }
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
    forgetStaleOwed();
    const at = owed.findIndex((entry) => entry.replies === replies);
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
        if (data.reason === "reset") {
          addNote("This conversation was reset.");
          // A reset cancels the open confirmations, which no event says (and the
          // conversation, gone, has no listing to read them back from).
          for (const open of cards.values()) if (open.state === "open") settle(open, "cancelled");
        }
        break;
      default:
        break;
    }
  }

  /** Send a message; whether it was answered. */
  async function send(text, { echo = true } = {}) {
    soni.showProblem(problem, null);
    if (echo) addMessage("user", text);
    typing.hidden = false;
    try {
      const result = await own(conn.call("message", { conversation_id: conversationId, text }));
      showTurn(result.replies, result.pending, result.status);
      return true;
    } catch (error) {
      soni.showProblem(problem, error);
      if (error.status === 401) refused();
      return false;
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
        refused();
        return false;
      }
    }
    return true;
  }

  /** What the conversation last said, and its open confirmations (a reload, a reconnection). */
  async function catchUp() {
    const asked = epoch;
    let conversation;
    try {
      conversation = await soni.api(`/conversations/${encodeURIComponent(conversationId)}`);
    } catch (error) {
      if (asked !== epoch) return;
      if (error.status === 401) refused();
      else if (error.status !== 404) soni.showProblem(problem, error);
      return;
    }
    if (asked !== epoch) return;
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
    // What is on screen is the previous key's user's: gone before anything is read
    // with the new one.
    clearConversation();
    soni.showProblem(problem, null);
    keys.needKey(false);
    conn.restart();
    catchUp();
  });

  document.getElementById("new-conversation").href = `/?c=${soni.randomId()}`;
  catchUp().then(() => conn.start());
})();
