// LabThings web UI: what every page shares. No framework, no build step: `window.LT`.
"use strict";

(function () {
  // The UI lives at `P/ui/…`, beside the API it talks to: the prefix is what comes before.
  const path = location.pathname;
  const uiAt = path.lastIndexOf("/ui/");
  const prefix = uiAt >= 0 ? path.slice(0, uiAt) : "";
  const TOKEN_KEY = "labthings-token";

  // A token given in the address (`?access_token=`) is kept for this tab and taken out of the
  // address bar, so it isn't bookmarked, shared or left in the history.
  const params = new URLSearchParams(location.search);
  if (params.has("access_token")) {
    sessionStorage.setItem(TOKEN_KEY, params.get("access_token"));
    params.delete("access_token");
    const query = params.toString();
    history.replaceState(null, "", path + (query ? "?" + query : "") + location.hash);
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }

  /** An HTTP answer that wasn't a success, with its decoded body. */
  class HttpError extends Error {
    constructor(status, body) {
      super(describe(status, body));
      this.status = status;
      this.body = body;
    }
  }

  /** The message a person should read for an error answer (FastAPI's or RFC 9457's shape). */
  function describe(status, body) {
    if (body && Array.isArray(body.detail) && body.detail.length) {
      const issue = body.detail[0];
      const loc = Array.isArray(issue.loc) ? issue.loc.slice(1).join(".") : "";
      return (loc ? loc + ": " : "") + (issue.msg || JSON.stringify(issue));
    }
    if (body && typeof body.detail === "string" && body.title) return body.title + ": " + body.detail;
    if (body && typeof body.detail === "string") return body.detail;
    if (body && body.title) return body.title;
    return "HTTP " + status;
  }

  /** The message to show for whatever a request threw. */
  function errorMessage(error) {
    if (error instanceof HttpError) return error.message;
    if (error instanceof SyntaxError) return "Not valid JSON: " + error.message;
    return error && error.message ? error.message : String(error);
  }

  /**
   * `fetch` a JSON API route: the body (or null), or an HttpError. A 401 shows the token
   * entry. `body` undefined sends none.
   */
  async function request(method, url, body) {
    const headers = { Accept: "application/json" };
    const saved = token();
    if (saved) headers.Authorization = "Bearer " + saved;
    const init = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    const type = response.headers.get("content-type") || "";
    let data = null;
    if (/json/.test(type)) {
      const text = await response.text();
      data = text ? JSON.parse(text) : null;
    }
    if (response.status === 401) askForToken();
    if (!response.ok) throw new HttpError(response.status, data);
    return data;
  }

  /** `url` with the saved token as `?access_token=`, for what can't send headers:
   * EventSource, WebSocket, <img>, links. */
  function withToken(url) {
    const saved = token();
    if (!saved) return url;
    const absolute = new URL(url, location.href);
    // Never hand the token to another origin (an output's `href` may point anywhere).
    if (absolute.origin !== location.origin) return url;
    absolute.searchParams.set("access_token", saved);
    return absolute.toString();
  }

  /** Build an element: `h("a", {href: "x", class: "y", onclick: f}, "text", child…)`. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else if (key in el && typeof value !== "string") el[key] = value;
      else el.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  /** A value as a person reads it: strings bare, everything else as JSON. */
  function show(value) {
    if (value === undefined) return "";
    if (typeof value === "string") return value;
    const compact = JSON.stringify(value);
    return compact.length > 60 ? JSON.stringify(value, null, 2) : compact;
  }

  /** A value as `show` writes it, but a number with at most 6 significant digits (1.23457,
   * not 1.2345678901234): readings are noisy, and the full value is a hover or copy away. */
  function showNumber(value) {
    if (typeof value !== "number" || Number.isInteger(value) || !Number.isFinite(value)) return show(value);
    return String(Number(value.toPrecision(6)));
  }

  /** Doc-comment text as prose: lines wrapped in the source are joined, paragraphs kept. */
  function prose(text) {
    return (text || "").replace(/([^\n])\n(?!\n)/g, "$1 ");
  }

  function pretty(value) {
    return JSON.stringify(value, null, 2);
  }

  /** The token entry, shown once the server has answered 401. */
  let asked = false;
  function askForToken() {
    const slot = document.getElementById("auth");
    if (asked || !slot) return;
    asked = true;
    const id = "token-input";
    const input = h("input", { id, type: "password", autocomplete: "current-password", required: true });
    const form = h(
      "form",
      {
        onsubmit(event) {
          event.preventDefault();
          // Reload through the token: the server then lets the page and its files in too.
          const url = new URL(location.href);
          url.searchParams.set("access_token", input.value.trim());
          location.replace(url.toString());
        },
      },
      h("label", { for: id }, "This server needs an access token", input),
      h("button", { type: "submit" }, "Use token"),
    );
    slot.className = "auth";
    slot.replaceChildren(
      h("p", { class: "error", role: "alert" }, saved() ? "The server refused the token." : "The server wants an access token."),
      form,
    );
    input.focus();
    function saved() {
      return token() !== "";
    }
  }

  /** Links to the API's own documents, shared by every page's header. */
  function apiLinks() {
    return [
      h("a", { href: prefix + "/docs" }, "API docs"),
      h("a", { href: prefix + "/openapi.json" }, "OpenAPI"),
      h("a", { href: prefix + "/things/" }, "Thing directory (JSON)"),
    ];
  }

  function setStatus(text, isError) {
    const status = document.getElementById("status");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error", !!isError);
  }

  window.LT = { prefix, token, request, HttpError, errorMessage, withToken, h, show, showNumber, prose, pretty, apiLinks, setStatus };
})();
