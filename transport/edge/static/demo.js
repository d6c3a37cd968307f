// A customer's chat widget, talking through the IM simulator as that customer.
//
// The chat shown is the simulator's record of this customer's conversation with
// the CS Robot (both sides, in order), so a reload shows it again. The customer
// name and the key the server gave for it stay in localStorage (and the name in
// ?customer=). Whom the customer talks to comes from the server's notices
// ({"session": ...} in their extra), never from the notices' words.
"use strict";

const POLL_MS = 1000;
const ENTER = 10001, LEAVE = 10002, REQUEST_HUMAN = 10003, RATING = 10004, RATING_REQUEST = 10005;
const STORE = "cs-demo";
// Sessions in which "talk to a person" makes sense; in the others the customer
// already has (or waits for) one.
const WITH_BOT = new Set(["bot", "ended"]);
const OPTION = /^\s*(\d{1,2})[.、]\s*(.+)$/;

let customer = null, key = "", after = 0, timer = null, polling = null;
let session = "bot";
const shown = new Set();  // message ids on screen: each once, however polls overlap

const $ = (id) => document.getElementById(id);

function error(e) {
  $("error").textContent = e ? e.message : "";
  $("error").classList.toggle("hidden", !e);
}

async function call(path, body) {
  const options = { headers: { "X-Demo-Key": key } };
  if (body !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((answer.error && answer.error.message) || response.statusText);
  return answer;
}

async function send(body) {
  try {
    await call("/demo/api/send", Object.assign({ customer }, body));
    error(null);
    await poll();
  } catch (e) { error(e); }
}

function parseExtra(payload) {
  try {
    const extra = payload.extra ? JSON.parse(payload.extra) : null;
    return extra && typeof extra === "object" ? extra : {};
  } catch (e) { return {}; }
}

function setSession(next) {
  session = next;
  $("human").classList.toggle("hidden", !WITH_BOT.has(session));
  $("end").classList.toggle("hidden", session === "ended");
}

function showRating(visible, servicerName) {
  $("rating").classList.toggle("hidden", !visible);
  $("stars").classList.toggle("hidden", !visible);
  if (visible && servicerName) {
    $("rating-ask").textContent = "请评价 " + servicerName + " 的服务 / Rate " + servicerName + ":";
  }
}

function avatar(cs) {
  const initial = el("span", { class: "avatar initial", text: (cs.name || "?").trim().charAt(0) || "?" });
  if (!cs.portrait || typeof cs.portrait !== "string") return initial;
  const img = el("img", { class: "avatar", src: cs.portrait, alt: "" });
  img.addEventListener("error", () => img.replaceWith(initial));
  return img;
}

function bubble(kind, message, body) {
  return el("div", { class: "bubble " + kind, "data-id": String(message.messageId) }, [
    el("div", { class: "body" }, body), el("time", { class: "time", text: time(message.timestamp) })]);
}

// A bot text whose lines "1. question" are options becomes text and buttons.
function withOptions(text, message) {
  const lines = text.split("\n"), kept = [], options = [];
  for (const line of lines) {
    const match = OPTION.exec(line);
    if (match) options.push({ number: match[1], question: match[2] });
    else kept.push(line);
  }
  if (!options.length) return [text];
  const buttons = options.map((option) => el("button", {
    type: "button", class: "option", "data-number": option.number,
    onclick: () => pick(message, option),
  }, [option.number + ". " + option.question]));
  return [kept.join("\n"), el("div", { class: "options" }, buttons)];
}

// The bot understands the number while these options are the latest it offered
// and it is the one listening; otherwise the question itself is sent (a bare
// number would go to the servicer, or count as a rating once a chat ended).
function pick(message, option) {
  const bot = [...$("chat").querySelectorAll(".bubble.from-bot")];
  const latest = bot.length && bot[bot.length - 1].dataset.id === String(message.messageId);
  send({ text: latest && session === "bot" ? option.number : option.question });
}

function fromCustomer(message) {
  const payload = message.payload;
  if (payload.type === ENTER) return null;
  if (payload.type === LEAVE) {
    setSession("ended");
    showRating(false);
    return bubble("note", message, ["你离开了对话 / You left the chat"]);
  }
  if (payload.type === REQUEST_HUMAN) return bubble("note", message, ["转人工 / You asked for a person"]);
  if (payload.type === RATING) {
    showRating(false);
    let rating = {};
    try { rating = JSON.parse(payload.content || "{}") || {}; } catch (e) { rating = {}; }
    const stars = Number(rating.stars) || 0;
    const said = ["★".repeat(stars) + "☆".repeat(Math.max(0, 5 - stars))];
    if (rating.comment) said.push(el("div", { class: "comment", text: String(rating.comment) }));
    return bubble("out", message, said);
  }
  if (session === "ended") setSession("bot");  // a new question opens a new conversation
  showRating(false);
  return bubble("out", message, [textOf(message)]);
}

function fromServer(message) {
  const payload = message.payload, extra = parseExtra(payload);
  if (typeof extra.session === "string") setSession(extra.session);
  if (payload.type === RATING_REQUEST) {
    let asked = {};
    try { asked = JSON.parse(payload.content || "{}") || {}; } catch (e) { asked = {}; }
    showRating(true, typeof asked.servicerName === "string" ? asked.servicerName : "");
    return bubble("note", message, [textOf(message)]);
  }
  if (payload.type >= 10000) return bubble("note", message, [textOf(message)]);
  if (extra.cs && typeof extra.cs === "object") {
    const cs = extra.cs, name = String(cs.name || cs.servicerId || "");
    const who = el("div", { class: "who" }, [avatar(cs), el("span", { class: "name", text: name })]);
    return bubble("in from-person", message, [who, textOf(message)]);
  }
  if (extra.session) return bubble("in from-notice", message, [textOf(message)]);
  return bubble("in from-bot", message, withOptions(textOf(message), message));
}

function render(messages) {
  const chat = $("chat");
  for (const message of messages) {
    if (shown.has(message.messageId)) continue;
    shown.add(message.messageId);
    after = Math.max(after, message.messageId);
    const node = message.sender === customer ? fromCustomer(message) : fromServer(message);
    if (node) chat.append(node);
  }
  chat.scrollTop = chat.scrollHeight;
}

// One poll at a time; a poll asked for meanwhile (after a send) waits for it.
async function poll() {
  if (polling) await polling;
  polling = (async () => {
    const asked = customer;
    try {
      const page = await call("/demo/api/conversation/" + encodeURIComponent(asked) + "?after=" + after);
      if (asked === customer) render(page.messages);  // not another customer's, opened since
    } catch (e) { error(e); }
  })();
  try { await polling; } finally { polling = null; }
}

async function open(name, storedKey) {
  try {
    const opened = await call("/demo/api/open", { customer: name, key: storedKey || "" });
    customer = opened.customer;
    key = opened.key;
  } catch (e) { error(e); return; }
  error(null);
  localStorage.setItem(STORE, JSON.stringify({ customer, key }));
  $("customer").value = customer;
  const url = new URL(location.href);
  url.searchParams.set("customer", customer);
  history.replaceState(null, "", url.pathname + url.search);
  $("chat").replaceChildren();
  shown.clear();
  after = 0;
  setSession("bot");
  showRating(false);
  await poll();
  // A customer opening the chat for the first time says "enter" (the welcome
  // follows); reopening it shows what was said and says nothing new.
  if (!shown.size) await send({ payload: { type: ENTER, persistFlag: 0 } });
  if (timer) clearInterval(timer);
  timer = setInterval(poll, POLL_MS);
}

$("open").addEventListener("click", () => {
  const name = $("customer").value.trim() || "customer1";
  const stored = JSON.parse(localStorage.getItem(STORE) || "{}");
  open(name, stored.customer === name ? stored.key : "");
});
$("sendform").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("text");
  if (!customer || !input.value.trim()) return;
  const text = input.value;
  input.value = "";
  await send({ text });
});
$("human").addEventListener("click", () => {
  if (customer) send({ payload: { type: REQUEST_HUMAN, persistFlag: 0 } });
});
$("end").addEventListener("click", () => {
  if (customer) send({ payload: { type: LEAVE, persistFlag: 0 } });
});
for (const button of document.querySelectorAll("#stars button")) {
  button.addEventListener("click", () => {
    const rating = { stars: Number(button.dataset.stars) };
    const comment = $("comment").value.trim();
    if (comment) rating.comment = comment;
    $("comment").value = "";
    showRating(false);
    send({ payload: { type: RATING, persistFlag: 3, content: JSON.stringify(rating) } });
  });
}

(function resume() {
  let stored = {};
  try { stored = JSON.parse(localStorage.getItem(STORE) || "{}") || {}; } catch (e) { stored = {}; }
  const named = new URLSearchParams(location.search).get("customer");
  const name = named || stored.customer;
  if (name) open(name, stored.customer === name ? stored.key : "");
})();
