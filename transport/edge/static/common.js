// Shared by the pages: building DOM safely and calling the JSON API.
// Everything from users is set with textContent, never as HTML.
"use strict";

function el(tag, props, children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children || []) node.append(child);
  return node;
}

function token() { return sessionStorage.getItem("cs-token") || ""; }

async function api(path, options) {
  const opts = Object.assign({ headers: {} }, options || {});
  opts.headers["Authorization"] = "Bearer " + token();
  if (opts.json !== undefined) {
    opts.method = opts.method || "POST";
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(opts.json);
  }
  const response = await fetch(path, opts);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error((body.error && body.error.message) || response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
}

const CONTROL_LABELS = {
  10001: "opened the chat", 10002: "left", 10003: "asked for a person",
  10004: "rated", 10005: "asked to rate",
};

function textOf(entry) {
  const payload = entry.payload || {};
  if (CONTROL_LABELS[payload.type] && !(payload.type === 10005 && payload.searchableContent)) {
    return "— " + CONTROL_LABELS[payload.type] + " —";
  }
  return payload.searchableContent || "[" + ({ 2: "voice", 3: "image", 4: "location", 5: "file",
                                                6: "video", 7: "sticker" }[payload.type] ||
                                               "type " + payload.type) + "]";
}

function time(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// onSignedIn(me) returns an error text when this page is not for that role.
async function signIn(form, onSignedIn) {
  const input = form.querySelector("input");
  const message = form.querySelector(".error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem("cs-token", input.value.trim());
    try {
      enter(await api("/api/me"));
    } catch (error) {
      message.textContent = "Sign-in failed: " + error.message;
    }
  });
  function enter(me) {
    const refusal = onSignedIn(me);
    if (refusal) { message.textContent = refusal; sessionStorage.removeItem("cs-token"); }
    else form.classList.add("hidden");
  }
  // The demo's landing page links with #token=...: sign in with it, then drop
  // it from the address bar (a fragment never reaches the server).
  const linked = new URLSearchParams(location.hash.slice(1)).get("token");
  if (linked) {
    sessionStorage.setItem("cs-token", linked);
    history.replaceState(null, "", location.pathname + location.search);
  }
  if (token()) {
    try { enter(await api("/api/me")); }
    catch (error) { sessionStorage.removeItem("cs-token"); }
  }
}
