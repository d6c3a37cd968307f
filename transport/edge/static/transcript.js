// A read-only transcript of one ended session: the customer's history between
// the session's start and end (/transcript?customer=&session=&from=&to=), for a
// supervisor or the servicer who served the customer.
"use strict";

const LIMIT = 500; // the history API's largest page: a long session shows its start

function kindOf(entry, customer) {
  if (entry.payload && entry.payload.type >= 10000) return ["note", ""];
  if (entry.servicer) return ["servicer", entry.servicer];
  if (entry.dir === "in" && entry.from === customer) return ["customer", customer];
  return ["bot", "bot 机器人"];
}

async function show() {
  const query = new URLSearchParams(location.search);
  const customer = query.get("customer") || "";
  const session = query.get("session") || "";
  const from = Number(query.get("from")) || 0, to = Number(query.get("to")) || Date.now();
  document.getElementById("title").textContent = customer;
  document.getElementById("span").textContent =
    new Date(from).toLocaleString() + " – " + new Date(to).toLocaleString();
  const base = "/api/customers/" + encodeURIComponent(customer);
  try {
    const [page, past] = await Promise.all([
      api(base + "/history?order=oldest&limit=" + LIMIT + "&after=" + Math.max(0, from - 1) +
          "&before=" + (to + 1)),
      api(base + "/sessions?limit=50")]);
    const rated = past.sessions.find((s) => s.session === session);
    document.getElementById("rating").textContent = rated && rated.stars
      ? "★".repeat(rated.stars) + (rated.comment ? " — " + rated.comment : "") : "";
    document.getElementById("chat").replaceChildren(...page.messages.map((entry) => {
      const [kind, who] = kindOf(entry, customer);
      const label = who ? [el("span", { class: "who", text: who + " · " + time(entry.t) })] : [];
      return el("div", { class: "bubble " + kind }, label.concat([textOf(entry)]));
    }));
    if (!page.messages.length) {
      document.getElementById("chat").append(el("div", { class: "muted", text: "No messages kept for this session." }));
    }
  } catch (error) { document.getElementById("error").textContent = error.message; }
}

signIn(document.getElementById("signin"), (me) => {
  if (me.role === "servicer") document.getElementById("back").href = "/console";
  document.getElementById("app").classList.remove("hidden");
  show();
  return null;
});
