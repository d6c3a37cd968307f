// A customer's chat widget, talking through the IM simulator as that customer.
"use strict";

const POLL_MS = 1000;
const ENTER = 10001, REQUEST_HUMAN = 10003, RATING = 10004, RATING_REQUEST = 10005;
let customer = null, next = 0, timer = null;

function error(e) { document.getElementById("error").textContent = e ? e.message : ""; }

async function send(body) {
  try {
    await fetch("/demo/api/send", { method: "POST", headers: { "Content-Type": "application/json" },
                                    body: JSON.stringify(Object.assign({ customer }, body)) });
    error(null);
  } catch (e) { error(e); }
}

function bubble(kind, text, extra) {
  const node = el("div", { class: "bubble " + kind }, [text]);
  if (extra && extra.cs) node.title = extra.cs.name;
  if (extra && extra.cs) node.prepend(el("div", { class: "muted", text: extra.cs.name }));
  const chat = document.getElementById("chat");
  chat.append(node);
  chat.scrollTop = chat.scrollHeight;
}

async function poll() {
  try {
    const response = await fetch("/demo/api/inbox/" + encodeURIComponent(customer) + "?since=" + next);
    const page = await response.json();
    next = page.next;
    for (const message of page.messages) {
      const payload = message.payload;
      let extra = null;
      try { extra = payload.extra ? JSON.parse(payload.extra) : null; } catch (e) { extra = null; }
      if (payload.type === RATING_REQUEST) document.getElementById("stars").classList.remove("hidden");
      bubble(payload.type >= 10000 ? "note" : "in", payload.searchableContent || "[" + payload.type + "]", extra);
    }
  } catch (e) { error(e); }
}

document.getElementById("open").addEventListener("click", async () => {
  customer = document.getElementById("customer").value.trim() || "customer1";
  next = 0;
  document.getElementById("chat").replaceChildren();
  const first = await (await fetch("/demo/api/inbox/" + encodeURIComponent(customer) + "?since=0")).json();
  next = first.next;  // only what arrives from now on
  await send({ payload: { type: ENTER, persistFlag: 0 } });
  if (timer) clearInterval(timer);
  timer = setInterval(poll, POLL_MS);
});
document.getElementById("sendform").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("text");
  if (!customer || !input.value.trim()) return;
  bubble("out", input.value);
  const text = input.value;
  input.value = "";
  await send({ text });
});
document.getElementById("human").addEventListener("click", async () => {
  if (!customer) return;
  bubble("note", "转人工 / asking for a person…");
  await send({ payload: { type: REQUEST_HUMAN, persistFlag: 0 } });
});
for (const button of document.querySelectorAll("#stars button")) {
  button.addEventListener("click", async () => {
    const stars = Number(button.dataset.stars);
    document.getElementById("stars").classList.add("hidden");
    bubble("out", "★".repeat(stars));
    await send({ payload: { type: RATING, persistFlag: 3, content: JSON.stringify({ stars }) } });
  });
}
