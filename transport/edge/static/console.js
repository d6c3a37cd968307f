// The servicer console. New messages arrive by polling every POLL_MS: it is
// one small JSON request per customer, works through any proxy, and needs no
// long-lived connection per servicer in a gevent server that holds thousands
// of sessions.
"use strict";

const POLL_MS = 1500;
const PAGE = 100; // entries per history request
const KEEP = 500; // entries a chat keeps on screen
const state = { me: null, selected: null, seen: {}, histories: {} };

function show(error) { document.getElementById("error").textContent = error ? error.message : ""; }

async function setStatus(status) {
  try {
    const servicer = await api("/api/servicers/" + encodeURIComponent(state.me) + "/status",
                               { json: { status } });
    renderStatus(servicer.status);
  } catch (error) { show(error); }
}

function renderStatus(status) {
  for (const id of ["on", "paused", "off"]) {
    document.getElementById(id).classList.toggle("active", id === status);
  }
}

function unread(customer) {
  const history = state.histories[customer] || [];
  const seen = state.seen[customer] || 0;
  return history.filter((e) => e.dir === "in" && e.from === customer && e.t > seen).length;
}

function renderSessions(customers) {
  const list = document.getElementById("sessions");
  list.replaceChildren(...customers.map((customer) => {
    const count = customer === state.selected ? 0 : unread(customer);
    return el("li", { class: customer === state.selected ? "selected" : "", "data-customer": customer,
                      onclick: () => select(customer) },
              [el("span", { text: customer }), count ? el("span", { class: "badge", text: String(count) }) : ""]);
  }));
  document.getElementById("nosessions").classList.toggle("hidden", customers.length > 0);
}

function renderChat() {
  const chat = document.getElementById("chat");
  const customer = state.selected;
  const history = state.histories[customer] || [];
  chat.replaceChildren(...history.map((entry) => {
    const mine = entry.dir === "out";
    const kind = entry.payload && entry.payload.type >= 10000 ? "note" : mine ? "out" : "in";
    const who = entry.servicer ? entry.servicer : entry.dir === "in" ? customer : "bot";
    return el("div", { class: "bubble " + kind, title: who + " " + time(entry.t) }, [textOf(entry)]);
  }));
  chat.scrollTop = chat.scrollHeight;
  if (history.length) state.seen[customer] = history[history.length - 1].t;
}

function select(customer) {
  state.selected = customer;
  document.getElementById("title").textContent = customer;
  for (const id of ["reply", "send", "end", "transferto", "transfer"]) {
    document.getElementById(id).disabled = !customer;
  }
  renderChat();
  poll();
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
  const page = await api(base + "&order=oldest&after=" + known[known.length - 1].t);
  if (page.messages.length) {
    state.histories[customer] = known.concat(page.messages).slice(-KEEP);
  }
}

async function poll() {
  try {
    const [sessions, queue, me] = await Promise.all([
      api("/api/sessions"), api("/api/queue"), api("/api/servicers/" + encodeURIComponent(state.me))]);
    renderStatus(me.status);
    document.getElementById("queue").textContent = "Queue: " + queue.queue.length;
    await Promise.all(sessions.sessions.map(refreshHistory));
    if (state.selected && !sessions.sessions.includes(state.selected)) {
      document.getElementById("title").textContent = state.selected + " (ended)";
    }
    renderSessions(sessions.sessions);
    if (state.selected) renderChat();
    show(null);
  } catch (error) { show(error); }
}

async function act(path, body) {
  try { await api("/api/sessions/" + encodeURIComponent(state.selected) + path, { json: body }); await poll(); }
  catch (error) { show(error); }
}

document.getElementById("replyform").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("reply");
  if (!input.value.trim()) return;
  const text = input.value;
  input.value = "";
  await act("/reply", { text });
});
document.getElementById("end").addEventListener("click", () => act("/end", {}));
document.getElementById("transfer").addEventListener("click", () => {
  const to = document.getElementById("transferto").value.trim();
  act("/transfer", { to: to || null });
});
for (const id of ["on", "paused", "off"]) {
  document.getElementById(id).addEventListener("click", () => setStatus(id));
}

signIn(document.getElementById("signin"), (me) => {
  if (me.role !== "servicer") return "This token is not a servicer's.";
  state.me = me.servicer;
  document.getElementById("who").textContent = me.servicer;
  document.getElementById("app").classList.remove("hidden");
  poll();
  setInterval(poll, POLL_MS);
  return null;
});
