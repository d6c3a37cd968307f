"use strict";

const REFRESH_MS = 3000;
const SVG = "http://www.w3.org/2000/svg";

function set(id, value) { document.getElementById(id).textContent = value; }

function chart(points) {
  const svg = document.getElementById("chart");
  svg.replaceChildren();
  const now = Math.floor(Date.now() / 60000);
  const counts = new Map(points.map(([minute, count]) => [minute, count]));
  const values = Array.from({ length: 60 }, (_, i) => counts.get(now - 59 + i) || 0);
  const top = Math.max(1, ...values);
  const path = values.map((v, i) => (i ? "L" : "M") + (i * 600 / 59).toFixed(1) + " " +
                                    (115 - v * 105 / top).toFixed(1)).join(" ");
  const line = document.createElementNS(SVG, "path");
  line.setAttribute("d", path);
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "#2d6cdf");
  line.setAttribute("stroke-width", "2");
  line.setAttribute("vector-effect", "non-scaling-stroke");
  svg.append(line);
  set("chartmax", "peak " + top + "/min");
}

async function refresh() {
  try {
    const o = await api("/api/overview");
    set("open", o.sessions.open); set("auto", o.sessions.auto); set("human", o.sessions.human);
    set("queued", o.queue.length); set("wait", Math.round(o.queue.longest_wait_secs) + " s");
    chart(o.traffic_per_minute);
    document.getElementById("servicers").replaceChildren(...o.servicers.map((s) => el("tr", {}, [
      el("td", { text: s.name + " (" + s.id + ")" }), el("td", { text: s.status }),
      el("td", { text: s.load + " / " + s.capacity }), el("td", { text: String(s.sessions) }),
      el("td", { text: s.first_response_avg_secs === null ? "–" : s.first_response_avg_secs + " s" }),
      el("td", { class: "missed", text: String(s.missed || 0) }),
      el("td", { "data-servicer": s.id, class: "rating",
                 text: s.rating_avg === null ? "–" : s.rating_avg.toFixed(1) + " ★ (" + s.rated + ")" }),
    ])));
    const how = { left: "customer left", idle: "idle", servicer_ended: "servicer ended",
                  rated: "rated", rating_over: "no rating" };
    document.getElementById("recent").replaceChildren(...o.recent_sessions.map((r) => el("tr", {}, [
      el("td", { text: r.customer }), el("td", { text: r.servicers.join(", ") || "bot only" }),
      el("td", { text: time(r.closed) }), el("td", { text: how[r.reason] || r.reason }),
      el("td", { text: r.stars ? "★".repeat(r.stars) : "–" }),
    ])));
    document.getElementById("ratings").replaceChildren(...o.recent_ratings.map((r) => el("li", {}, [
      el("span", { text: "★".repeat(r.stars) + " " + r.servicer + (r.comment ? " — " + r.comment : "") }),
      el("span", { class: "muted", text: time(r.t) }),
    ])));
    await refreshQueue(o.servicers);
    await refreshInbox();
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
  set("botshare", share === null ? "–" : Math.round(share * 100) + "% of " +
      stats.conversations.total);
  const entries = stats.answers.map((a) => [a.id, a.question]);
  inbox.replaceChildren(...missed.unanswered.map((u) => {
    const pick = el("select", {}, entries.map(([id, question]) => {
      const option = el("option", { value: id, text: question + " (" + id + ")" });
      if (u.suggestion && u.suggestion.id === id) option.selected = true;
      return option;
    }));
    const teach = el("button", { text: "Add as variant", onclick: async () => {
      try {
        await api("/api/autoreply/entries/" + encodeURIComponent(pick.value) + "/variants",
                  { json: { question: u.question } });
        set("inboxnote", "Taught: “" + u.question + "” → " + pick.value);
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
  refresh();
  setInterval(refresh, REFRESH_MS);
  return null;
});
