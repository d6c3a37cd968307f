// The servicer console. New messages arrive by polling every POLL_MS: it is
// one small JSON request per customer, works through any proxy, and needs no
// long-lived connection per servicer in a gevent server that holds thousands
// of sessions.
"use strict";

const POLL_MS = 1500;
const PAGE = 100; // entries per history request
const KEEP = 500; // entries a chat keeps on screen
const TITLE = document.title;
// seen: per customer, the "t" of the newest entry the servicer has looked at;
// kept in sessionStorage so a refresh does not count old messages again.
const state = { me: null, profiles: {}, selected: null, open: [], ended: false, histories: {}, canned: null,
                seen: JSON.parse(sessionStorage.getItem("cs-seen") || "{}") };

// An error stays until dismissed: a poll that succeeds afterwards says nothing
// about the reply or transfer that failed.
function show(error) {
  document.getElementById("errortext").textContent = error.message;
  document.getElementById("error").classList.remove("hidden");
}
document.getElementById("dismiss").addEventListener("click", () => {
  document.getElementById("error").classList.add("hidden");
});

async function setStatus(status) {
  try {
    const servicer = await api("/api/servicers/" + encodeURIComponent(state.me) + "/status",
                               { json: { status } });
    renderStatus(servicer.status);
  } catch (error) { show(error); }
  if (status === "on" && window.Notification && Notification.permission === "default") {
    Notification.requestPermission();  // needs a click: this is one
  }
}

function renderStatus(status) {
  for (const id of ["on", "paused", "off"]) {
    document.getElementById(id).classList.toggle("active", id === status);
  }
}

function isControl(entry) { return entry.payload && entry.payload.type >= 10000; }

// The current session starts at the customer's latest "asked for a person":
// what they said to the bot before, or in past sessions, is not unread.
function sessionStart(history) {
  for (let i = history.length - 1; i >= 0; i--) {
    if (history[i].payload && history[i].payload.type === 10003) return history[i].t;
  }
  return 0;
}

function unread(customer) {
  const history = state.histories[customer] || [];
  const since = Math.max(state.seen[customer] || 0, sessionStart(history));
  return history.filter((e) => e.dir === "in" && e.from === customer && !isControl(e) &&
                               e.t > since).length;
}

// A portrait is shown only from an http(s) or inline image address.
// A portrait that failed to load is not asked for again at every redraw (the
// list is redrawn every poll): it is left out, as a customer without one is.
const badPortraits = new Set();

function avatar(profile, big) {
  const url = profile && profile.portrait;
  if (!url || badPortraits.has(url) || !/^(https?:\/\/|data:image\/)/i.test(url)) return "";
  const img = el("img", { class: "avatar" + (big ? " big" : ""), src: url, alt: "" });
  img.addEventListener("error", () => { badPortraits.add(url); img.remove(); });
  return img;
}

function nameOf(customer) {
  const profile = state.profiles[customer];
  return profile && profile.name ? profile.name : customer;
}

async function refreshProfile(customer) {
  state.profiles[customer] = await api("/api/customers/" + encodeURIComponent(customer) + "/profile");
}

function minutes(ms) {
  const secs = Math.max(0, Math.round(ms / 1000));
  return Math.floor(secs / 60) + " min " + (secs % 60) + " s";
}

function renderProfile() {
  const customer = state.selected;
  const profile = customer && state.profiles[customer];
  document.getElementById("profile").classList.toggle("hidden", !profile);
  if (!profile) return;
  const picture = document.getElementById("portrait");
  const shown = avatar(profile, true);
  picture.classList.toggle("hidden", !shown);
  if (shown) {
    picture.onerror = () => { badPortraits.add(profile.portrait); picture.classList.add("hidden"); };
    picture.src = shown.src;
  }
  document.getElementById("profilename").textContent = profile.name;
  document.getElementById("profileid").textContent = profile.name === customer ? "" : customer;
  const asked = sessionStart(state.histories[customer] || []);
  const parts = [];
  if (profile.seated_at_ms && asked) parts.push("waited " + minutes(profile.seated_at_ms - asked));
  if (profile.seated_at_ms && !state.ended) {
    parts.push("with you for " + minutes(Date.now() - profile.seated_at_ms));
  }
  document.getElementById("timing").textContent = parts.join(" · ");
}

// The customer panel's past sessions, each with its rating and a link to its
// transcript; read when a customer is picked.
async function loadPast(customer) {
  const found = await api("/api/customers/" + encodeURIComponent(customer) + "/sessions?limit=10");
  if (state.selected !== customer) return;
  document.getElementById("pastsessions").replaceChildren(...found.sessions.map((s) => el("li", {
    "data-session": s.session }, [
    el("span", { text: new Date(s.closed).toLocaleString([], { month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit" }) + " · " + (s.servicers.join(", ") || "bot only") }),
    el("span", { class: "stars", text: s.stars ? "★".repeat(s.stars) + (s.comment ? " " + s.comment : "")
                                              : "no rating" }),
    el("a", { href: "/transcript?" + new URLSearchParams({ customer, session: s.session,
      from: s.started || s.closed - 86400000, to: s.closed }).toString(), text: "transcript" }),
  ])));
  document.getElementById("past").classList.toggle("hidden", !found.sessions.length);
}

function renderSessions() {
  const list = document.getElementById("sessions");
  const rows = state.open.map((customer) => {
    const profile = state.profiles[customer];
    const portrait = profile && profile.portrait && !badPortraits.has(profile.portrait)
      ? profile.portrait : "";
    const count = customer === state.selected && !document.hidden ? 0 : unread(customer);
    return [customer, customer === state.selected, count, nameOf(customer), portrait];
  });
  const total = rows.reduce((sum, row) => sum + row[2], 0);
  // Redrawn only when something shown changed: a list replaced at every poll
  // can swallow a click that straddles the redraw.
  const drawn = JSON.stringify(rows);
  if (list.dataset.drawn !== drawn) {
    list.dataset.drawn = drawn;
    list.replaceChildren(...rows.map(([customer, selected, count, name]) => el("li", {
      class: selected ? "selected" : "", "data-customer": customer, onclick: () => select(customer) },
      [el("span", { class: "name" }, [avatar(state.profiles[customer], false),
                                       el("span", { text: name })]),
       count ? el("span", { class: "badge", text: String(count) }) : ""])));
  }
  document.getElementById("nosessions").classList.toggle("hidden", state.open.length > 0);
  document.title = (total ? "(" + total + ") " : "") + TITLE;
}

// A servicer sees how long each waits, not who (the API leaves the ids out).
function renderQueue(waiting) {
  document.getElementById("waiting").replaceChildren(...waiting.map((w) => el("li", {
    "data-position": String(w.position) }, [
      el("span", { text: "#" + w.position + (w.group ? " · " + w.group : "") +
                         (w.priority ? " · P" + w.priority : "") +
                         (w.message ? " · left a message" : "") }),
      el("span", { class: "muted", text: Math.floor(w.waited_secs / 60) + " min " +
                                         Math.round(w.waited_secs % 60) + " s" })])));
  document.getElementById("nowaiting").classList.toggle("hidden", waiting.length > 0);
  document.getElementById("takenext").disabled = waiting.length === 0;
}

// Who said it: the customer, a servicer (named), the bot, or a system notice.
function kindOf(entry, customer) {
  if (isControl(entry)) return ["note", ""];
  if (entry.servicer) return ["servicer", entry.servicer];
  if (entry.dir === "in" && entry.from === customer) return ["customer", nameOf(customer)];
  return ["bot", "bot 机器人"];
}

function renderChat() {
  const chat = document.getElementById("chat");
  const customer = state.selected;
  const history = state.histories[customer] || [];
  chat.replaceChildren(...history.map((entry) => {
    const [kind, who] = kindOf(entry, customer);
    const label = who ? [el("span", { class: "who", text: who + " · " + time(entry.t) })] : [];
    return el("div", { class: "bubble " + kind, title: (who || "system") + " " + time(entry.t) },
              label.concat([textOf(entry)]));
  }));
  chat.scrollTop = chat.scrollHeight;
  // Shown in a hidden tab is not seen: it stays unread (and in the title).
  if (history.length && !document.hidden) {
    state.seen[customer] = Math.max(...history.map((entry) => entry.t));
    sessionStorage.setItem("cs-seen", JSON.stringify(state.seen));
  }
}

function renderControls() {
  const closed = !state.selected || state.ended;
  for (const id of ["reply", "send", "end", "transferto", "transfer"]) {
    document.getElementById(id).disabled = closed;
  }
  document.getElementById("ended").classList.toggle("hidden", !(state.selected && state.ended));
  document.getElementById("title").textContent =
    state.selected ? nameOf(state.selected) + (state.ended ? " (ended)" : "") : "Pick a customer";
  if (closed) document.getElementById("canned").classList.add("hidden");
}

function select(customer) {
  state.selected = customer;
  // Read again on every pick: a customer transferred back was seated anew.
  refreshProfile(customer).then(renderProfile, show);
  document.getElementById("past").classList.add("hidden");
  loadPast(customer).catch(show);
  state.ended = !state.open.includes(customer);
  renderControls();
  renderChat();
  renderSessions();
  renderProfile();
  loadTargets();
}

// A returning customer may have 2,000 entries: the first look takes the
// newest page, and every poll after that asks only for what is newer than
// the newest entry shown ("t" grows strictly per customer), so a poll with
// nothing new moves no entries at all.
async function refreshHistory(customer) {
  const base = "/api/customers/" + encodeURIComponent(customer) + "/history?limit=" + PAGE;
  const known = state.histories[customer];
  if (!known || !known.length) {
    const page = await api(base);
    state.histories[customer] = page.messages.reverse();
    return;
  }
  const newest = Math.max(...known.map((entry) => entry.t));
  const page = await api(base + "&order=oldest&after=" + newest);
  if (page.messages.length) {
    state.histories[customer] = inMessageOrder(known.concat(page.messages)).slice(-KEEP);
  }
}

// A message the IM server delivered late comes with "ahead_of": the t of the
// entry it belongs just before (storage/history.py in_message_order, the same rule).
function inMessageOrder(entries) {
  const shown = [];
  for (const entry of entries.slice().sort((a, b) => a.t - b.t)) {
    const at = Number.isInteger(entry.ahead_of)
      ? shown.findIndex((e) => e.t === entry.ahead_of) : -1;
    shown.splice(at < 0 ? shown.length : at, 0, entry);
  }
  return shown;
}

function notifyNewCustomers(before, now) {
  if (before === null || !document.hidden || !window.Notification ||
      Notification.permission !== "granted") return;
  for (const customer of now.filter((c) => !before.includes(c))) {
    new Notification("New customer 新客户", { body: customer, tag: "cs-" + customer });
  }
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden || !state.selected) return;
  renderChat();
  renderSessions();
});

let polled = null;
async function poll() {
  try {
    const [sessions, queue, me] = await Promise.all([
      api("/api/sessions"), api("/api/queue"), api("/api/servicers/" + encodeURIComponent(state.me))]);
    renderStatus(me.status);
    document.getElementById("queue").textContent = "Queue: " + queue.queue.length;
    renderQueue(queue.queue);
    // Only open sessions: a customer who ended or moved on is no longer
    // this servicer's to read (403).
    await Promise.all(sessions.sessions.map(refreshHistory).concat(
      // Without a profile (the session closing just now) the id stands in.
      sessions.sessions.filter((c) => !state.profiles[c])
        .map((c) => refreshProfile(c).catch(() => null))));
    notifyNewCustomers(polled, sessions.sessions);
    polled = sessions.sessions;
    state.open = sessions.sessions;
    if (state.selected) {
      state.ended = !state.open.includes(state.selected);
      renderControls();
      renderChat();
      renderProfile();
    }
    renderSessions();
  } catch (error) { show(error); }
}

async function act(path, body) {
  await api("/api/sessions/" + encodeURIComponent(state.selected) + path, { json: body });
  await poll();
}

// The text leaves the box only once the server took it: a reply refused
// because the session ended meanwhile stays in the (now closed) box.
document.getElementById("replyform").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("reply");
  if (!input.value.trim() || state.ended) return;
  const text = input.value;
  try {
    await act("/reply", { text });
    if (input.value === text) input.value = "";
    document.getElementById("canned").classList.add("hidden");
  } catch (error) {
    show(error);
    await poll();
  }
});
document.getElementById("end").addEventListener("click", () => act("/end", {}).catch(show));
document.getElementById("transfer").addEventListener("click", () => {
  const to = document.getElementById("transferto").value;
  act("/transfer", { to: to || null }).catch(show);
});
for (const id of ["on", "paused", "off"]) {
  document.getElementById(id).addEventListener("click", () => setStatus(id));
}

// "Take next": the first customer waiting for this servicer (their groups, by
// the queue's order), even past their capacity: pressing it is their choice.
// Their chat opens; the server says why not (nobody waits for them, off duty).
document.getElementById("takenext").addEventListener("click", async (event) => {
  event.target.disabled = true;
  try {
    const taken = await api("/api/queue/take", { json: {} });
    await poll();
    select(taken.customer);
  } catch (error) {
    show(error);
    await poll();
  }
});

// The transfer picker: servicers on duty with room, read when a customer is
// picked (and when the list is opened), so it is never long stale.
async function loadTargets() {
  try {
    const found = await api("/api/transfer-targets");
    const picker = document.getElementById("transferto");
    const chosen = picker.value;
    picker.replaceChildren(el("option", { value: "", text: "to the queue" }),
      ...found.servicers.map((s) => el("option", { value: s.id,
        text: (s.name || s.id) + " (" + s.load + "/" + s.capacity + ")" })));
    picker.value = found.servicers.some((s) => s.id === chosen) ? chosen : "";
  } catch (error) { show(error); }
}
document.getElementById("transferto").addEventListener("focus", loadTargets);

// The canned-reply picker: "#" at the start of the box lists the replies
// whose names start with what follows; picking one puts "#name" in the box,
// which the server expands (with placeholders filled) as in the IM client.
async function cannedReplies() {
  if (!state.canned) {
    const found = await api("/api/canned");
    state.canned = Object.assign({}, found.configured, found.shared, found.own || {});
  }
  return state.canned;
}
document.getElementById("reply").addEventListener("input", async (event) => {
  const picker = document.getElementById("canned");
  const value = event.target.value;
  if (!value.startsWith("#") || /\s/.test(value)) { picker.classList.add("hidden"); return; }
  let replies;
  try { replies = await cannedReplies(); } catch (error) { show(error); return; }
  const prefix = value.slice(1);
  const names = Object.keys(replies).filter((n) => n.startsWith(prefix)).sort();
  picker.replaceChildren(...(names.length ? names.map((name) => el("li", {
    "data-name": name, onclick: () => {
      event.target.value = "#" + name;
      picker.classList.add("hidden");
      event.target.focus();
    } }, [el("b", { text: "#" + name }), el("span", { class: "muted", text: replies[name] })]))
    : [el("li", { class: "muted", text: "No canned reply starts with that." })]));
  picker.classList.remove("hidden");
});

signIn(document.getElementById("signin"), (me) => {
  if (me.role !== "servicer") return "This token is not a servicer's.";
  state.me = me.servicer;
  document.getElementById("who").textContent = me.servicer;
  document.getElementById("app").classList.remove("hidden");
  poll();
  setInterval(poll, POLL_MS);
  return null;
});
