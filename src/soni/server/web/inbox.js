// The inbox: every open confirmation the key's user may see, decided from here,
// and the history of the closed ones (docs/web.md). Kept live by GET /events: any
// confirmation event reloads the lists, and so does any turn (a turn may withdraw
// a confirmation, which no event says).
"use strict";

(() => {
  const { el } = soni;
  const problem = document.getElementById("problem");
  const announce = document.getElementById("announce");
  const lists = {
    open: document.getElementById("open-list"),
    closed: document.getElementById("history-list"),
  };
  const empty = {
    open: document.getElementById("open-empty"),
    closed: document.getElementById("history-empty"),
  };
  const countdowns = new Map(); // expiry element -> {expiresAt, item}
  // Bumped when the key changes: lists read with the previous key are dropped.
  let epoch = 0;

  // The history says which withdrawal it was.
  const STATUS_TEXT = {
    ...soni.OUTCOMES,
    superseded: "Withdrawn (superseded)",
    cancelled: "Withdrawn (cancelled)",
  };

  function conversationLink(record) {
    return el(
      "a",
      { class: "conversation", href: `/?c=${encodeURIComponent(record.conversation_id)}` },
      `Conversation ${record.conversation_id}`,
    );
  }

  function optionsList(record) {
    if (record.options.length < 2) return null;
    return el(
      "ul",
      { class: "options", "aria-label": "Options" },
      record.options.map((option, index) => el("li", { text: soni.optionLabel(record.options, record.labels, index) })),
    );
  }

  // Ids of an item's prompt and details, for its article's accessible name and
  // description: its buttons are read with what they decide. Confirmation ids are
  // hex digits, safe in an id.
  function ids(which, record) {
    return { prompt: `${which}-prompt-${record.id}`, meta: `${which}-meta-${record.id}` };
  }

  function openItem(record) {
    const id = ids("open", record);
    const buttons = el("div", {
      class: "card-actions",
      role: "group",
      "aria-label": "Decide",
      "aria-describedby": id.prompt,
    });
    const expiry = el("span", { class: "expiry" });
    const item = el(
      "li",
      { class: "item card", "data-state": "open", "data-confirmation": record.id },
      el(
        "article",
        { "aria-labelledby": id.prompt, "aria-describedby": id.meta },
        el("p", { class: "item-head" }, conversationLink(record)),
        el("p", { class: "card-prompt", id: id.prompt, text: record.prompt }),
        optionsList(record),
        el(
          "p",
          { class: "meta", id: id.meta },
          el("span", { class: "asked-by", text: `Asked by ${record.user_id || "anonymous"}` }),
          " · ",
          el("time", { datetime: record.created_at, text: soni.when(record.created_at) }),
          " · ",
          expiry,
        ),
        buttons,
      ),
    );
    const decide = (decision) => () => decideItem(record, decision, item);
    if (record.options.length === 1) {
      buttons.append(
        el("button", { type: "button", class: "approve", onclick: decide("approve") }, "Approve"),
        el("button", { type: "button", class: "skip", onclick: decide("skip") }, "Skip"),
      );
    } else {
      record.options.forEach((option, index) => {
        buttons.append(
          el(
            "button",
            { type: "button", class: "option", "data-option": option, onclick: decide(option) },
            soni.optionLabel(record.options, record.labels, index),
          ),
        );
      });
      buttons.append(el("button", { type: "button", class: "skip", onclick: decide("skip") }, "Skip"));
    }
    countdowns.set(expiry, { expiresAt: Date.parse(record.expires_at), item });
    return item;
  }

  function closedItem(record) {
    const index = record.options.indexOf(record.decision);
    let outcome = STATUS_TEXT[record.status] || record.status;
    if (record.options.length > 1 && index >= 0 && record.status !== "skipped") {
      outcome = outcome.replace("Approved", `Chose “${soni.optionLabel(record.options, record.labels, index)}”`);
    }
    const who = record.decided_by
      ? el(
          "span",
          { class: "decided-by" },
          `Decided by ${record.decided_by.user_id || "someone"} via ${record.decided_by.channel}`,
        )
      : null;
    const at = record.decided_at || (record.status === "expired" ? record.expires_at : null);
    const id = ids("closed", record);
    return el(
      "li",
      { class: "item history", "data-state": record.status, "data-confirmation": record.id },
      el(
        "article",
        { "aria-labelledby": id.prompt, "aria-describedby": id.meta },
        el("p", { class: "item-head" }, conversationLink(record), " ", el("span", { class: "badge", text: outcome })),
        el("p", { class: "card-prompt", id: id.prompt, text: record.prompt }),
        optionsList(record),
        el(
          "p",
          { class: "meta", id: id.meta },
          el("span", { class: "asked-by", text: `Asked by ${record.user_id || "anonymous"}` }),
          who ? " · " : null,
          who,
          at ? " · " : null,
          at ? el("time", { datetime: at, text: soni.when(at) }) : null,
        ),
        record.error ? el("p", { class: "error", text: record.error }) : null,
      ),
    );
  }

  async function decideItem(record, decision, item) {
    // A disabled button loses focus: where it was is kept for the next drawing.
    deciding = focusIn(lists.open);
    for (const button of item.querySelectorAll("button")) button.disabled = true;
    soni.showProblem(problem, null);
    const token = encodeURIComponent(record.token);
    const path =
      decision === "approve" || decision === "skip"
        ? `/confirmations/${token}/${decision}`
        : `/confirmations/${token}/choose`;
    try {
      const result = await soni.api(path, decision === "approve" || decision === "skip" ? { method: "POST" } : { json: { option: decision } });
      const said = (result.replies || []).map((reply) => reply.text).join(" ");
      const done = result.decision === "skip" ? "Skipped" : "Approved";
      announce.textContent = `${done}: ${record.prompt}${said ? ` — the bot said: ${said}` : ""}`;
    } catch (error) {
      soni.showProblem(problem, error);
      if (error.status === 401) refused();
    }
    await load();
    deciding = null;
  }

  /** Empty both lists: what they showed belongs to a key no longer in use. */
  function clearLists() {
    epoch += 1;
    show("open", [], openItem);
    show("closed", [], closedItem);
    document.getElementById("open-count").textContent = "";
    announce.textContent = "";
  }

  function refused() {
    clearLists();
    keys.needKey(true);
  }

  let loading = null;
  let again = false;

  /** Read both lists; a call while one read runs reads once more after it. */
  async function load() {
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      do {
        again = false;
        const asked = epoch;
        try {
          const [open, closed] = await Promise.all([
            soni.api("/confirmations?status=open"),
            soni.api("/confirmations?status=closed&limit=100"),
          ]);
          // Read with a key since changed: read again with the new one.
          if (asked !== epoch) {
            again = true;
            continue;
          }
          keys.needKey(false);
          show("open", open.confirmations, openItem);
          show("closed", closed.confirmations.slice().sort(byClosing), closedItem);
          document.getElementById("open-count").textContent = `(${open.confirmations.length})`;
        } catch (error) {
          if (asked !== epoch) again = true;
          else if (error.status === 401) refused();
          else soni.showProblem(problem, error);
        }
      } while (again);
    })();
    try {
      await loading;
    } finally {
      loading = null;
    }
  }

  /** The history, most recently closed first (the server lists by creation). */
  function byClosing(a, b) {
    const closedAt = (record) => Date.parse(record.decided_at || record.expires_at) || 0;
    return closedAt(b) - closedAt(a);
  }

  // Controls of an item that can hold focus, in order.
  const FOCUSABLE = "a, button";
  let deciding = null; // where focus was in the open list when a decision was sent

  function show(which, records, render) {
    const list = lists[which];
    const lost = document.activeElement === document.body || !document.activeElement;
    const kept = focusIn(list) || (which === "open" && lost ? deciding : null);
    if (which === "open") countdowns.clear();
    list.replaceChildren(...records.map(render));
    empty[which].hidden = records.length > 0;
    tick();
    if (kept) restoreFocus(list, kept);
  }

  /** Where keyboard focus is in a list: its item's id and position, the control's index. */
  function focusIn(list) {
    const active = document.activeElement;
    const item = active && list.contains(active) ? active.closest("[data-confirmation]") : null;
    if (!item) return null;
    return {
      id: item.dataset.confirmation,
      position: [...list.children].indexOf(item),
      control: [...item.querySelectorAll(FOCUSABLE)].indexOf(active),
    };
  }

  /**
   * Focus the same control of the same item after the list was drawn again; an item
   * that left the list (decided) hands focus to the one now in its place, or to the
   * list's panel.
   */
  function restoreFocus(list, { id, position, control }) {
    const same = [...list.children].find((node) => node.dataset.confirmation === id);
    const target = same
      ? same.querySelectorAll(FOCUSABLE)[control]
      : list.children[Math.min(position, list.children.length - 1)]?.querySelector("button");
    const usable = target && !target.disabled ? target : null;
    (usable || list.closest("[role=tabpanel]")).focus();
  }

  function tick() {
    for (const [node, { expiresAt, item }] of countdowns) {
      const left = expiresAt - soni.now();
      if (left > 0) {
        node.textContent = `Expires in ${soni.remaining(left)}`;
        continue;
      }
      // The server decides when it expired and says so (an event): the list is read
      // again then, and the item moves to the history as the server recorded it.
      node.textContent = "Expiring…";
      item.dataset.state = "expiring";
      for (const button of item.querySelectorAll("button")) button.disabled = true;
      countdowns.delete(node);
    }
  }
  setInterval(tick, 1000);

  // -- tabs ---------------------------------------------------------------------------

  const tabs = [document.getElementById("tab-open"), document.getElementById("tab-history")];
  function select(tab) {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
    }
  }
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = tabs[(index + step + tabs.length) % tabs.length];
      select(next);
      next.focus();
    });
  });

  // -- live ------------------------------------------------------------------------------

  const RELOAD_ON = new Set([
    "confirmation_requested",
    "confirmation_decided",
    "confirmation_expired",
    "action_executed",
    "action_interrupted",
    "session_removed",
    // Withdrawing a confirmation (cancel, a question that supersedes it) is no
    // event of its own: the turn that did it is.
    "turn",
  ]);
  let stopEvents = () => {};

  function follow() {
    stopEvents();
    stopEvents = soni.followEvents("/events", {
      onStatus: soni.showConnection,
      onOpen: load, // what happened while the stream was down
      onRefused: refused,
      onEvent: (type) => {
        if (RELOAD_ON.has(type)) load();
      },
    });
  }

  const keys = soni.keyForm(() => {
    // The lists (and the tokens their buttons hold) are the previous key's user's.
    clearLists();
    soni.showProblem(problem, null);
    keys.needKey(false);
    follow();
  });

  follow();
})();
