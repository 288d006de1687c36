// The inbox: every open confirmation the key's user may see, decided from here,
// and the history of the closed ones (docs/web.md). Kept live by GET /events: any
// confirmation event reloads the lists.
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

  const STATUS_TEXT = {
    approved: "Approved",
    executing: "Approved · running",
    executed: "Approved · done",
    failed: "Approved · failed",
    interrupted: "Approved · outcome unknown",
    skipped: "Skipped",
    expired: "Expired",
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

  function openItem(record) {
    const buttons = el("div", { class: "card-actions", role: "group", "aria-label": "Decide" });
    const expiry = el("span", { class: "expiry" });
    const item = el(
      "li",
      { class: "item card", "data-state": "open", "data-confirmation": record.id },
      el(
        "article",
        {},
        el("p", { class: "item-head" }, conversationLink(record)),
        el("p", { class: "card-prompt", text: record.prompt }),
        optionsList(record),
        el(
          "p",
          { class: "meta" },
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
    return el(
      "li",
      { class: "item history", "data-state": record.status, "data-confirmation": record.id },
      el(
        "article",
        {},
        el("p", { class: "item-head" }, conversationLink(record), " ", el("span", { class: "badge", text: outcome })),
        el("p", { class: "card-prompt", text: record.prompt }),
        optionsList(record),
        el(
          "p",
          { class: "meta" },
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
      if (error.status === 401) keys.needKey(true);
      soni.showProblem(problem, error);
    }
    await load();
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
        try {
          const [open, closed] = await Promise.all([
            soni.api("/confirmations?status=open"),
            soni.api("/confirmations?status=closed&limit=100"),
          ]);
          keys.needKey(false);
          show("open", open.confirmations, openItem);
          show("closed", closed.confirmations.slice().sort(byClosing), closedItem);
          document.getElementById("open-count").textContent = `(${open.confirmations.length})`;
        } catch (error) {
          if (error.status === 401) {
            keys.needKey(true);
            show("open", [], openItem);
            show("closed", [], closedItem);
            document.getElementById("open-count").textContent = "";
          } else soni.showProblem(problem, error);
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

  function show(which, records, render) {
    if (which === "open") countdowns.clear();
    lists[which].replaceChildren(...records.map(render));
    empty[which].hidden = records.length > 0;
    tick();
  }

  function tick() {
    for (const [node, { expiresAt, item }] of countdowns) {
      const left = expiresAt - Date.now();
      if (left > 0) {
        node.textContent = `Expires in ${soni.remaining(left)}`;
        continue;
      }
      // The server records the expiry within seconds and says so (an event): the
      // list is read again then.
      node.textContent = "Expired";
      item.dataset.state = "expired";
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
  ]);
  let stopEvents = () => {};

  function follow() {
    stopEvents();
    stopEvents = soni.followEvents("/events", {
      onStatus: soni.showConnection,
      onOpen: load, // what happened while the stream was down
      onRefused: () => keys.needKey(true),
      onEvent: (type) => {
        if (RELOAD_ON.has(type)) load();
      },
    });
  }

  const keys = soni.keyForm(() => {
    keys.needKey(false);
    follow();
  });

  follow();
})();
