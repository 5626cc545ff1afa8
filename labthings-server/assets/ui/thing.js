// LabThings web UI: `P/ui/<thing>`, a live page built from the Thing's TD and the push streams
// of the protocol only (SSE `T` + `properties` and `T` + `events`, invocation JSON), so it
// works against any server that speaks it.
"use strict";

(function () {
  const { h, request, errorMessage, withToken, show } = LT;
  const path = location.pathname;
  const name = decodeURIComponent(path.slice(path.lastIndexOf("/ui/") + 4));
  const tdUrl = LT.prefix + "/" + encodeURIComponent(name) + "/";
  const FINISHED = new Set(["completed", "cancelled", "error"]);
  const POLL_MS = 300;
  const MAX_EVENTS = 100;
  let base = new URL(tdUrl, location.href);

  const resolve = (href) => new URL(href, base).toString();
  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
  const ops = (form) => (Array.isArray(form.op) ? form.op : [form.op]);
  /** The first plain-HTTP form for `op` (not SSE, not WebSocket, and not the synchronous
   * `?sync=true` invoke form, which answers only the output: the page follows invocations). */
  const httpForm = (forms, op) =>
    (forms || []).find(
      (f) => ops(f).includes(op) && !f.subprotocol && !/^wss?:/.test(f.href) && !/[?&]sync=true(&|$)/.test(f.href),
    );
  const sseForm = (forms, op) => (forms || []).find((f) => ops(f).includes(op) && f.subprotocol === "sse");
  /** The TD's link to the event stream of every property write (`properties`) or every event
   * (`events`): links, not root forms, since the reference's TD model allows no
   * `observeallproperties` op at the root. */
  const streamLink = (td, name) =>
    (td.links || []).find((l) => l.type === "text/event-stream" && l.href.endsWith("/" + name));
  const idFor = (kind, key) => kind + "-" + key.replace(/[^A-Za-z0-9_-]/g, "_");

  // --- live connection status -------------------------------------------------------------
  const streams = new Set();
  function watch(source) {
    streams.add(source);
    const live = document.getElementById("live");
    const update = () => {
      const all = [...streams];
      const open = all.every((s) => s.readyState === EventSource.OPEN);
      live.textContent = open ? "Live" : all.some((s) => s.readyState === EventSource.CLOSED) ? "Disconnected" : "Reconnecting…";
      live.className = "live " + (open ? "on" : "off");
    };
    source.addEventListener("open", update);
    source.addEventListener("error", () => {
      update();
      // EventSource doesn't say why; ask, so a 401 shows the token entry.
      if (source.readyState === EventSource.CLOSED) request("GET", tdUrl).catch(() => {});
    });
  }

  // --- properties ---------------------------------------------------------------------------
  const propertyRows = new Map();

  function propertyRow(key, property) {
    const title = property.title || key;
    const readHref = httpForm(property.forms, "readproperty");
    const writeForm = httpForm(property.forms, "writeproperty");
    const writable = !property.readOnly && !!writeForm;
    const observable = !!property.observable;
    const value = h("output", { class: "value", id: idFor("value", key) }, "…");
    const error = h("p", { class: "field-error", role: "alert" });
    const row = { key, property, value, fromStream: false, control: null, dirty: false };
    const hint = [key, LT.forms.typeName(property), LT.forms.unit(property), LT.forms.constraints(property)]
      .filter(Boolean)
      .join(" · ");
    // A getter the server doesn't poll has no stream: say so, and read it only on request.
    const onDemand = observable
      ? null
      : h(
          "small",
          { class: "on-demand", title: "Read when you press Read: the server pushes no changes of this property" },
          "read on demand",
        );
    const nameCell = h(
      "div",
      { class: "name" },
      h("span", { id: idFor("label", key) }, title),
      h("small", {}, hint),
      onDemand,
      property.description && property.description !== title ? h("small", {}, LT.prose(property.description.replace(title, "").trim())) : null,
    );
    value.setAttribute("aria-labelledby", idFor("label", key));
    value.addEventListener("copy", (event) => {
      if (typeof row.current !== "number" || !event.clipboardData) return;
      event.clipboardData.setData("text/plain", String(row.current));
      event.preventDefault();
    });

    /** Read the value (or take the read already under way) and show it. */
    async function refresh(reading) {
      if (!readHref) return;
      try {
        const current = await (reading || request("GET", resolve(readHref.href)));
        setValue(current, false);
      } catch (e) {
        value.textContent = "(" + errorMessage(e) + ")";
      }
    }

    function setValue(current, live) {
      if (!live && row.fromStream) return; // a pushed value is newer than a read that raced it
      if (live) row.fromStream = true;
      const text = LT.showNumber(current);
      // The full value on hover, and on copy.
      value.title = typeof current === "number" ? String(current) : "";
      if (value.textContent !== text) {
        const first = !("current" in row);
        value.textContent = text;
        if (!first) {
          // Flash the change: restart the animation (one style flush, only for live changes).
          value.classList.remove("changed");
          void value.offsetWidth;
          value.classList.add("changed");
        }
      }
      row.current = current;
      if (row.trace) row.trace.push(current);
      if (row.control && !row.dirty && !row.control.el.contains(document.activeElement)) row.control.set(current);
    }
    row.setValue = setValue;
    row.refresh = refresh;

    let editor;
    if (writable) {
      const id = idFor("prop", key);
      const control = LT.forms.control(property, id, title);
      row.control = control;
      control.el.addEventListener("input", () => {
        row.dirty = true;
      });
      let inFlight = null;
      async function write() {
        let next;
        try {
          next = control.get();
        } catch (e) {
          error.textContent = errorMessage(e);
          return;
        }
        const sent = JSON.stringify(next);
        if (inFlight === sent) return; // Enter, then the button: one write
        inFlight = sent;
        control.focus.removeAttribute("aria-invalid");
        try {
          await request(writeForm.htmlMethod || "PUT", resolve(writeForm.href), next);
          error.textContent = "";
          row.dirty = false;
          if (!observable) await refresh();
        } catch (e) {
          error.textContent = errorMessage(e);
          control.focus.setAttribute("aria-invalid", "true");
          control.focus.setAttribute("aria-describedby", idFor("error", key));
        } finally {
          inFlight = null;
        }
      }
      error.id = idFor("error", key);
      control.onCommit(write);
      control.focus.setAttribute("aria-label", "New value of " + title + (property.unit ? " in " + LT.unitSymbol(property.unit) : ""));
      const buttons = [h("button", { type: "button", onclick: write }, "Set")];
      // A writable data property with a default has `T<prop>/reset` (PROTOCOL.md).
      if (observable && property.default !== undefined) {
        buttons.push(
          h(
            "button",
            {
              type: "button",
              class: "secondary",
              title: "Back to " + show(property.default),
              async onclick() {
                try {
                  await request("POST", resolve(writeForm.href.replace(/\/?$/, "/reset")));
                  error.textContent = "";
                  row.dirty = false;
                  control.set(property.default);
                } catch (e) {
                  error.textContent = errorMessage(e);
                }
              },
            },
            "Reset",
          ),
        );
      }
      if (!observable) buttons.push(h("button", { type: "button", class: "secondary", onclick: () => refresh() }, "Read"));
      editor = h("div", { class: "editor" }, control.el, buttons, error);
    } else {
      editor = h(
        "div",
        { class: "editor" },
        h("span", { class: "meta" }, "read-only"),
        observable ? null : h("button", { type: "button", class: "secondary", onclick: () => refresh() }, "Read"),
        error,
      );
    }
    // The unit beside the value, outside the <output> whose text is the value alone.
    const unit = property.unit ? h("span", { class: "unit", "aria-hidden": "true" }, " " + LT.unitSymbol(property.unit)) : null;
    if (unit) value.setAttribute("aria-description", "in " + LT.unitSymbol(property.unit));
    const reading = unit ? h("div", { class: "reading" }, value, unit) : value;
    // An observable number gets a live trace of its last two minutes under its row.
    const numeric = ["number", "integer"].includes((LT.forms.nullableInner(property) || property).type);
    if (observable && numeric) {
      // Labelled by the property's name: its title is a sentence, too long for an axis.
      row.trace = LT.plot.trace({ label: key, unit: property.unit ? LT.unitSymbol(property.unit) : "" });
    }
    row.el = h(
      "div",
      { class: "row" + (row.trace ? " traced" : ""), "data-property": key },
      nameCell,
      reading,
      editor,
      row.trace ? row.trace.el : null,
    );
    return row;
  }

  function renderProperties(td) {
    const entries = Object.entries(td.properties || {});
    if (!entries.length) return Promise.resolve();
    // Subscribe first, so no write falls between a read and the subscription (no message is
    // dispatched before this function returns, by which time the listeners are there).
    const all = streamLink(td, "properties");
    const source = all ? new EventSource(withToken(resolve(all.href))) : null;
    // The first values are what a person waits for: ask for them before building anything.
    const reads = new Map();
    for (const [key, property] of entries) {
      const form = httpForm(property.forms, "readproperty");
      if (form && !property.writeOnly) {
        const reading = request("GET", resolve(form.href));
        reading.catch(() => {}); // handled where it is awaited
        reads.set(key, reading);
      }
    }
    const list = document.getElementById("property-list");
    for (const [key, property] of entries) {
      const row = propertyRow(key, property);
      propertyRows.set(key, row);
      list.append(row.el);
    }
    document.getElementById("properties").hidden = false;
    observeProperties(source);
    // Reads go out together; pushed values that arrive first win.
    return Promise.allSettled([...reads].map(([key, reading]) => propertyRows.get(key).refresh(reading)));
  }

  function observeProperties(source) {
    if (source) {
      for (const [key, row] of propertyRows) {
        if (!row.property.observable) continue;
        source.addEventListener(key, (message) => row.setValue(JSON.parse(message.data), true));
      }
      watch(source);
      return;
    }
    for (const row of propertyRows.values()) {
      const form = sseForm(row.property.forms, "observeproperty");
      if (!form) continue;
      const source = new EventSource(withToken(resolve(form.href)));
      source.onmessage = (message) => row.setValue(JSON.parse(message.data), true);
      watch(source);
    }
  }

  // --- actions and invocations ----------------------------------------------------------------
  const cards = new Map();

  function elapsedText(inv) {
    const start = Date.parse(inv.timeStarted || inv.timeRequested);
    if (Number.isNaN(start)) return "";
    const end = inv.timeCompleted ? Date.parse(inv.timeCompleted) : Date.now();
    return Math.max(0, (end - start) / 1000).toFixed(1) + " s";
  }

  /** An invocation's card: created once per id, updated by polling its `href` until it ends. */
  function invocationCard(inv, list) {
    if (cards.has(inv.id)) return cards.get(inv.id);
    const badge = h("span", { class: "badge" });
    const elapsed = h("span", { class: "elapsed" });
    const progress = h("progress", { max: 1, hidden: true });
    const log = h("ol", { class: "log", "aria-label": "Log" });
    const result = h("div", { class: "result" });
    const cancel = h("button", { type: "button", class: "danger" }, "Cancel");
    const el = h(
      "article",
      { class: "invocation", "data-id": inv.id, "aria-label": "Invocation " + inv.id.slice(0, 8) },
      h("header", {}, h("code", { title: inv.id }, inv.id.slice(0, 8)), badge, elapsed, progress, cancel),
      log,
      result,
    );
    const card = { el, inv };
    let logShown = "";
    let ticker = null;

    function update(next) {
      card.inv = next;
      el.dataset.status = next.status;
      badge.textContent = next.status;
      badge.className = "badge " + next.status;
      elapsed.textContent = elapsedText(next);
      if (typeof next.progress === "number") {
        progress.hidden = false;
        progress.value = next.progress;
        progress.textContent = Math.round(next.progress * 100) + "%";
      }
      const finished = FINISHED.has(next.status);
      cancel.hidden = finished;
      if (Array.isArray(next.log)) {
        const key = next.log.length + ":" + (next.log.length ? next.log[next.log.length - 1].created : "");
        if (key !== logShown) {
          logShown = key;
          const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
          log.replaceChildren(
            ...next.log.map((line) =>
              h("li", { class: line.levelname }, h("span", { class: "lvl" }, line.levelname), line.message),
            ),
          );
          if (atBottom) log.scrollTop = log.scrollHeight;
        }
      }
      if (finished) {
        clearInterval(ticker);
        showResult(next);
      } else if (!ticker) {
        ticker = setInterval(() => {
          elapsed.textContent = elapsedText(card.inv);
        }, 100);
      }
    }

    function showResult(done) {
      if (done.status === "completed") {
        const output = done.output;
        if (output && typeof output === "object" && typeof output.href === "string" && output.media_type) {
          const href = withToken(resolve(output.href));
          result.replaceChildren(
            output.media_type.startsWith("image/")
              ? h("img", { class: "output", src: href, alt: "Output of " + done.action })
              : null,
            h("p", {}, h("a", { href, download: "" }, "Download output (" + output.media_type + ")")),
          );
        } else if (LT.plot.series(output)) {
          // A series: plotted, with the numbers one click away.
          const series = LT.plot.series(output);
          const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
          const names = series.map((s) => s.name).join(", ");
          LT.plot.draw(svg, series, { xLabel: series[0].xName || "", yLabel: series.length > 1 || series[0].xName ? names : "" });
          result.replaceChildren(
            h("figure", { class: "series" }, svg),
            h("details", {}, h("summary", {}, "Numbers (JSON)"), h("pre", { class: "output" }, LT.pretty(output))),
          );
        } else if (output !== null && output !== undefined) {
          result.replaceChildren(h("pre", { class: "output" }, LT.pretty(output)));
        } else {
          result.replaceChildren();
        }
      } else if (done.status === "cancelled") {
        // Cancelling is a normal end, not a failure: no red.
        result.replaceChildren(h("p", { class: "meta" }, (done.error && done.error.detail) || "Cancelled."));
      } else if (done.error) {
        const e = done.error;
        result.replaceChildren(h("p", { class: "error" }, (e.title ? e.title + ": " : "") + (e.detail || "")));
      }
    }

    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      try {
        await request("DELETE", resolve(card.inv.href));
      } catch (e) {
        result.replaceChildren(h("p", { class: "error" }, errorMessage(e)));
        cancel.disabled = false;
      }
    });

    async function poll() {
      while (!FINISHED.has(card.inv.status)) {
        await sleep(POLL_MS);
        try {
          update(await request("GET", resolve(card.inv.href)));
        } catch (e) {
          clearInterval(ticker);
          result.replaceChildren(h("p", { class: "error" }, errorMessage(e)));
          return;
        }
      }
    }

    cards.set(inv.id, card);
    list.prepend(el);
    update(inv);
    // Summaries (from the list route) carry no log: fetch the whole invocation at once.
    if (!FINISHED.has(inv.status) || inv.log === undefined) poll();
    return card;
  }

  function actionSection(key, action) {
    const title = action.title || key;
    const form = httpForm(action.forms, "invokeaction");
    const list = h("div", { class: "invocations", "aria-live": "polite" });
    const error = h("p", { class: "field-error", role: "alert" });
    const fields = LT.forms.objectForm(action.input, idFor("action", key));
    const run = h("button", { type: "submit", class: "run", "aria-label": "Run " + key }, "Run");
    const description = action.description && action.description !== title ? LT.prose(action.description.replace(title, "").trim()) : "";
    const el = h(
      "section",
      { class: "action", "data-action": key, "aria-labelledby": idFor("action-h", key) },
      h("h3", { id: idFor("action-h", key) }, title),
      h("p", { class: "meta" }, key),
      description ? h("p", { class: "meta" }, description) : null,
      h(
        "form",
        {
          novalidate: true,
          async onsubmit(event) {
            event.preventDefault();
            let input;
            try {
              input = fields.get();
            } catch (e) {
              error.textContent = errorMessage(e);
              return;
            }
            run.disabled = true;
            try {
              const inv = await request(form.htmlMethod || "POST", resolve(form.href), input);
              error.textContent = "";
              invocationCard(inv, list);
            } catch (e) {
              error.textContent = errorMessage(e);
            } finally {
              run.disabled = false;
            }
          },
        },
        fields.el,
        run,
        error,
      ),
      list,
    );
    // Reattach to invocations still running (after a reload, or started by someone else).
    request("GET", resolve(form.href))
      .then((summaries) => {
        for (const inv of (summaries || []).filter((s) => !FINISHED.has(s.status))) invocationCard(inv, list);
      })
      .catch(() => {});
    return el;
  }

  function renderActions(td) {
    const entries = Object.entries(td.actions || {}).filter(([, a]) => httpForm(a.forms, "invokeaction"));
    if (!entries.length) return;
    const list = document.getElementById("action-list");
    for (const [key, action] of entries) list.append(actionSection(key, action));
    document.getElementById("actions").hidden = false;
  }

  // --- events -----------------------------------------------------------------------------------
  function renderEvents(td) {
    const names = Object.keys(td.events || {});
    if (!names.length) return;
    document.getElementById("events").hidden = false;
    const list = document.getElementById("event-list");
    // Each event's title and its data's unit symbol, looked up once.
    const shown = Object.fromEntries(
      names.map((key) => {
        const event = td.events[key] || {};
        return [key, { title: event.title || key, symbol: LT.unitSymbol((event.data || {}).unit) }];
      }),
    );
    const add = (key, data) => {
      const now = new Date();
      const { title, symbol } = shown[key];
      list.prepend(
        h(
          "li",
          { "data-event": key },
          h("time", { datetime: now.toISOString() }, now.toLocaleTimeString()),
          h("strong", {}, title),
          h("code", {}, show(data)),
          symbol ? h("span", { class: "unit", "aria-hidden": "true" }, " " + symbol) : null,
        ),
      );
      while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
    };
    const all = streamLink(td, "events");
    if (all) {
      const source = new EventSource(withToken(resolve(all.href)));
      for (const key of names) source.addEventListener(key, (m) => add(key, JSON.parse(m.data)));
      watch(source);
      return;
    }
    for (const key of names) {
      const form = sseForm(td.events[key].forms, "subscribeevent");
      if (!form) continue;
      const source = new EventSource(withToken(resolve(form.href)));
      source.onmessage = (m) => add(key, JSON.parse(m.data));
      watch(source);
    }
  }

  // --- MJPEG streams ----------------------------------------------------------------------------
  function renderStreams(td) {
    const links = (td.links || []).filter((l) => l.type === "multipart/x-mixed-replace");
    if (!links.length) return;
    const list = document.getElementById("stream-list");
    for (const link of links) {
      const href = resolve(link.href);
      const label = link.title || decodeURIComponent(href.replace(/\/$/, "").split("/").pop());
      const img = h("img", { alt: "Live stream " + label, hidden: true });
      const toggle = h("button", { type: "button", "aria-pressed": "false" }, "Show");
      toggle.addEventListener("click", () => {
        const showing = toggle.getAttribute("aria-pressed") === "true";
        if (showing) {
          // No `src`: the browser drops the connection and the camera stops encoding for us.
          img.removeAttribute("src");
          img.hidden = true;
        } else {
          img.src = withToken(href);
          img.hidden = false;
        }
        toggle.setAttribute("aria-pressed", String(!showing));
        toggle.textContent = showing ? "Show" : "Hide";
      });
      list.append(
        h(
          "div",
          { class: "stream", "data-stream": label },
          h("header", {}, h("h3", {}, label), toggle, h("a", { href: withToken(href + "/viewer") }, "viewer")),
          img,
        ),
      );
    }
    document.getElementById("streams").hidden = false;
  }

  // --- the page ---------------------------------------------------------------------------------
  async function main() {
    let td;
    try {
      td = await request("GET", tdUrl);
    } catch (e) {
      document.getElementById("title").textContent = name;
      LT.setStatus("Could not load the Thing Description: " + errorMessage(e), true);
      return;
    }
    if (td.base) base = new URL(td.base, location.href);
    document.title = (td.title || name) + " · LabThings";
    document.getElementById("title").textContent = td.title || name;
    document.getElementById("description").textContent = LT.prose(td.description);
    document.getElementById("links").replaceChildren(
      h("a", { href: tdUrl }, "Thing Description (JSON)"),
      ...LT.apiLinks(),
    );
    // The page is laid out once, with its first values in (briefly hidden, a page costs no
    // layout): on a busy machine a layout of the empty page would otherwise come first.
    const content = document.getElementById("main");
    content.hidden = true;
    const values = renderProperties(td);
    renderStreams(td);
    renderActions(td);
    renderEvents(td);
    await Promise.race([values, sleep(300)]);
    content.hidden = false;
  }

  main();
})();
