"use strict";

const REFRESH_MS = 3000;
const STATUSES = [["on", "On"], ["paused", "Pause"], ["off", "Off"]];
const HOW = { left: "customer left", idle: "idle", servicer_ended: "servicer ended",
              rated: "rated", rating_over: "no rating" };

function set(id, value) { document.getElementById(id).textContent = value; }
function percent(share, of) { return share === null ? "–" : Math.round(share * 100) + "% of " + of; }
function secs(value) { return value === null || value === undefined ? "–" : value + " s"; }
function when(ms) {
  return ms ? new Date(ms).toLocaleString([], { month: "2-digit", day: "2-digit",
                                                hour: "2-digit", minute: "2-digit" }) : "–";
}

// A supervisor sets a servicer's status from their row; a refusal shows the
// server's own message.
function statusButtons(s) {
  return el("span", { class: "statusbuttons", "data-servicer": s.id }, STATUSES.map(([status, label]) =>
    el("button", { type: "button", "data-status": status, text: label,
                   class: s.status === status ? "active" : "",
                   onclick: async () => {
                     try {
                       await api("/api/servicers/" + encodeURIComponent(s.id) + "/status",
                                 { json: { status } });
                       set("statuserror", "");
                       await refresh();
                     } catch (error) { set("statuserror", s.id + ": " + error.message); }
                   } })));
}

function renderServicers(servicers) {
  document.getElementById("servicers").replaceChildren(...servicers.map((s) => el("tr", { "data-servicer": s.id }, [
    el("td", { text: s.name + " (" + s.id + ")" }), el("td", {}, [statusButtons(s)]),
    el("td", { text: s.load + " / " + s.capacity }), el("td", { text: String(s.sessions) }),
    el("td", { text: secs(s.first_response_avg_secs) }),
    el("td", { class: "missed", text: String(s.missed || 0) }),
    el("td", { "data-servicer": s.id, class: "rating",
               text: s.rating_avg === null ? "–" : s.rating_avg.toFixed(1) + " ★ (" + s.rated + ")" }),
  ])));
}

// The date range: local days, from the start of "from" to the end of "to".
function dayStart(input, days) {
  const [y, m, d] = input.value.split("-").map(Number);
  return new Date(y, m - 1, d + days).getTime();
}

function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate());
}

function transcriptLink(r) {
  const query = new URLSearchParams({ customer: r.customer, session: r.session,
                                      from: r.started || r.closed - 86400000, to: r.closed });
  return el("a", { href: "/transcript?" + query.toString(), text: "View" });
}

async function refreshRange() {
  const from = document.getElementById("from"), to = document.getElementById("to");
  if (!from.value || !to.value) return;
  try {
    const range = await api("/api/sessions/ended?from=" + dayStart(from, 0) + "&to=" +
                            (dayStart(to, 1) - 1) + "&limit=100");
    set("endedcount", String(range.count));
    set("satisfaction", percent(range.satisfaction.share, range.satisfaction.rated + " rated"));
    set("sessionsnote", range.count > range.sessions.length
      ? "(the newest " + range.sessions.length + " of " + range.count + ")" : "");
    document.getElementById("recent").replaceChildren(...range.sessions.map((r) => el("tr", {
      "data-session": r.session }, [
      el("td", { class: "customer", text: r.customer }),
      el("td", { text: r.with_person ? r.servicers.join(", ") : "bot only" }),
      el("td", { text: when(r.started) }), el("td", { text: when(r.closed) }),
      el("td", { text: HOW[r.reason] || r.reason }),
      el("td", { class: "stars", text: r.stars ? "★".repeat(r.stars) + (r.comment ? " " + r.comment : "") : "–" }),
      el("td", {}, [transcriptLink(r)]),
    ])));
    set("rangeerror", "");
  } catch (error) { set("rangeerror", error.message); }
}

async function refresh() {
  try {
    const o = await api("/api/overview");
    set("open", o.sessions.open); set("auto", o.sessions.auto); set("human", o.sessions.human);
    set("queued", o.queue.length); set("wait", Math.round(o.queue.longest_wait_secs) + " s");
    set("firstresponse", secs(o.figures.first_response_avg_secs));
    set("missed", String(o.figures.missed));
    const peak = drawTraffic(document.getElementById("chart"), o.traffic_per_minute,
                             Math.floor(Date.now() / 60000));
    set("chartmax", "peak " + peak + "/min");
    renderServicers(o.servicers);
    document.getElementById("ratings").replaceChildren(...o.recent_ratings.map((r) => el("li", {}, [
      el("span", { text: "★".repeat(r.stars) + " " + r.servicer + (r.comment ? " — " + r.comment : "") }),
      el("span", { class: "muted", text: time(r.t) }),
    ])));
    await Promise.all([refreshQueue(o.servicers), refreshInbox(), refreshRange()]);
    set("updated", "updated " + new Date().toLocaleTimeString());
    set("error", "");
  } catch (error) { set("error", error.message); }
}

// The inbox is redrawn with the rest unless the supervisor is choosing in it:
// a redraw every few seconds would reset the entry they are picking.
async function refreshInbox() {
  const inbox = document.getElementById("inbox");
  if (inbox.contains(document.activeElement)) return;
  const [stats, missed] = await Promise.all([api("/api/autoreply/stats"),
                                             api("/api/autoreply/unanswered")]);
  const share = stats.conversations.bot_share;
  set("botshare", percent(share, stats.conversations.total));
  const entries = stats.answers.map((a) => [a.id, a.question + " (" + a.id + ")"]);
  // Besides an entry, a question may be taught as off-topic (the bot learns to
  // leave such questions unanswered) or as a request for a person.
  const labels = [["none", "off-topic: no entry should answer it"],
                  ["human", "asks for a person"]];
  inbox.replaceChildren(...missed.unanswered.map((u) => {
    const pick = el("select", {}, entries.concat(labels).map(([id, text]) => {
      const option = el("option", { value: id, text: text });
      if (u.suggestion && u.suggestion.id === id) option.selected = true;
      return option;
    }));
    const teach = el("button", { text: "Teach", onclick: async () => {
      try {
        const label = labels.find(([id]) => id === pick.value);
        if (label) {
          await api("/api/autoreply/examples",
                    { json: { question: u.question, label: pick.value } });
        } else {
          await api("/api/autoreply/entries/" + encodeURIComponent(pick.value) + "/variants",
                    { json: { question: u.question } });
        }
        set("inboxnote", "Taught: “" + u.question + "” → " + (label ? label[1] : pick.value));
        teach.blur(); pick.blur();
        await refreshInbox();
      } catch (error) { set("inboxnote", error.message); }
    } });
    return el("tr", { "data-question": u.question }, [
      el("td", { text: u.question }), el("td", { text: String(u.count) }),
      el("td", { text: u.reason === "then_human" ? "asked for a person" : "not placed" }),
      el("td", { text: u.servicer_answer || "–" }),
      el("td", {}, [pick, teach]),
    ]);
  }));
}

// The queue, each row with a picker of the servicers who may take that customer
// (on duty or paused, of the customer's group; full ones too: a supervisor may
// decide to go past capacity) and "Assign". Not redrawn while the supervisor is
// choosing in it, as the inbox.
async function refreshQueue(servicers) {
  const table = document.getElementById("queuetable");
  if (table.contains(document.activeElement)) return;
  const waiting = (await api("/api/queue")).queue;
  const note = document.getElementById("queuenote");
  document.getElementById("queueempty").classList.toggle("hidden", waiting.length > 0);
  table.replaceChildren(...waiting.map((w) => {
    const able = servicers.filter((s) => (s.status === "on" || s.status === "paused") &&
      (!w.group || !s.groups.length || s.groups.includes(w.group)));
    const pick = el("select", { "aria-label": "servicer for " + w.customer }, able.map((s) =>
      el("option", { value: s.id, text: s.name + " (" + s.load + "/" + s.capacity +
                                        (s.status === "paused" ? ", paused" : "") + ")" })));
    const assign = el("button", { text: "Assign", onclick: async () => {
      try {
        await api("/api/queue/" + encodeURIComponent(w.customer) + "/assign",
                  { json: { servicer: pick.value } });
        note.className = "muted";
        note.textContent = "Assigned " + w.customer + " to " + pick.value + ".";
      } catch (error) {  // the server's reason, until the next assignment
        note.className = "error";
        note.textContent = error.message;
      }
      assign.blur(); pick.blur();
      await refresh();
    } });
    if (!able.length) assign.disabled = true;
    return el("tr", { "data-customer": w.customer }, [
      el("td", { text: w.customer }),
      el("td", { text: Math.round(w.waited_secs) + " s" + (w.priority ? " · P" + w.priority : "") +
                       (w.group ? " · " + w.group : "") }),
      el("td", {}, [pick, assign]),
    ]);
  }));
}

signIn(document.getElementById("signin"), (me) => {
  if (me.role !== "supervisor") return "This token is not a supervisor's.";
  document.getElementById("app").classList.remove("hidden");
  const today = isoDay(new Date());
  for (const id of ["from", "to"]) {
    document.getElementById(id).value = today;
    document.getElementById(id).addEventListener("change", refreshRange);
  }
  refresh();
  setInterval(refresh, REFRESH_MS);
  return null;
});
