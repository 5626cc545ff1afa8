// LabThings web UI: the History view of a Thing page (`P/ui/<thing>`): recent invocations from
// the durable history with filters, one record's detail, and a property's past values as a
// table. Hidden when the server keeps no history (its routes answer 404).
//
// A property's past numeric values are also plotted against time (plot.js), above the table.
"use strict";

(function () {
  const { h, request, errorMessage, show, pretty } = LT;
  const path = location.pathname;
  const thing = decodeURIComponent(path.slice(path.lastIndexOf("/ui/") + 4));
  const HISTORY = LT.prefix + "/history/";
  const section = document.getElementById("history");
  if (!section) return;
  const list = document.getElementById("history-list");
  const detail = document.getElementById("history-detail");
  const filters = document.getElementById("history-filters");
  const series = document.getElementById("history-series");
  const pageSize = 20;

  const query = (params) => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
    return search.toString();
  };
  const localTime = (text) => (text ? new Date(text).toLocaleString() : "");
  const message = (text, isError) => h("p", { class: isError ? "status error" : "status" }, text);

  async function listInvocations() {
    const form = new FormData(filters);
    const params = { thing, limit: String(pageSize) };
    for (const key of ["action", "status"]) params[key] = form.get(key);
    for (const key of ["since", "until"]) {
      const value = form.get(key);
      if (value) params[key] = new Date(value).toISOString();
    }
    let rows;
    try {
      rows = await request("GET", HISTORY + "invocations?" + query(params));
    } catch (e) {
      if (e instanceof LT.HttpError && e.status === 404) return false; // no history kept
      list.replaceChildren(message("Could not read the history: " + errorMessage(e), true));
      return true;
    }
    const body = rows.map((row) =>
      h(
        "tr",
        {},
        h("td", {}, h("time", { datetime: row.timeRequested }, localTime(row.timeRequested))),
        h("td", {}, row.action),
        h("td", { class: "status-" + row.status }, row.status),
        h("td", {}, row.requester + (row.peer ? " (" + row.peer + ")" : "")),
        h("td", {}, h("button", { type: "button", onclick: () => showDetail(row.id) }, "Details")),
      ),
    );
    list.replaceChildren(
      rows.length
        ? h(
            "table",
            { class: "history" },
            h("thead", {}, h("tr", {}, ...["Requested", "Action", "Status", "By", ""].map((t) => h("th", { scope: "col" }, t)))),
            h("tbody", {}, ...body),
          )
        : message("No invocations recorded for these filters."),
    );
    return true;
  }

  async function showDetail(id) {
    detail.hidden = false;
    detail.replaceChildren(message("Loading " + id + "…"));
    try {
      const record = await request("GET", HISTORY + "invocations/" + encodeURIComponent(id));
      const field = (label, value) => [h("dt", {}, label), h("dd", {}, value)];
      detail.replaceChildren(
        h("h3", {}, record.action + " · " + record.status),
        h(
          "dl",
          { class: "history-fields" },
          ...field("Id", h("code", {}, record.id)),
          ...field("Requested", localTime(record.timeRequested)),
          ...field("Started", localTime(record.timeStarted)),
          ...field("Completed", localTime(record.timeCompleted)),
          ...field("By", record.requester + (record.peer ? " from " + record.peer : "")),
          ...field("Server", record.server + ", LabThings " + record.softwareVersion),
          ...field("TD SHA-256", h("code", {}, record.tdSha256)),
          ...field("Input", h("pre", {}, pretty(record.input))),
          ...field("Output", h("pre", {}, pretty(record.output))),
          ...(record.error ? field("Error", h("pre", {}, pretty(record.error))) : []),
          ...field("State at start", h("pre", {}, pretty(record.snapshot))),
        ),
        h("h4", {}, "Log"),
        h(
          "ol",
          { class: "events" },
          ...(record.log || []).map((line) =>
            h("li", {}, h("time", { datetime: line.created }, localTime(line.created)), h("strong", {}, line.levelname), h("code", {}, line.message)),
          ),
        ),
      );
    } catch (e) {
      detail.replaceChildren(message("Could not read the record: " + errorMessage(e), true));
    }
  }

  async function showSeries(property) {
    series.replaceChildren(message("Loading " + property + "…"));
    try {
      const rows = await request(
        "GET",
        HISTORY + "properties/" + encodeURIComponent(thing) + "/" + encodeURIComponent(property) + "?limit=1000",
      );
      const table = h(
        "table",
        { class: "history" },
        h("thead", {}, h("tr", {}, ...["Time", "Value", "Source", "Invocation"].map((t) => h("th", { scope: "col" }, t)))),
        h(
          "tbody",
          {},
          ...rows
            .slice()
            .reverse()
            .map((row) =>
              h("tr", {}, h("td", {}, localTime(row.time)), h("td", {}, h("code", {}, show(row.value))), h("td", {}, row.source), h("td", {}, row.invocation || "")),
            ),
        ),
      );
      const parts = [h("h3", {}, property + ": " + rows.length + " values")];
      const points = rows
        .filter((row) => typeof row.value === "number" && Number.isFinite(row.value))
        .map((row) => [Date.parse(row.time), row.value]);
      if (points.length > 1) {
        const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
        svg.setAttribute("class", "plot");
        const figure = h("figure", { class: "series history-plot" });
        figure.append(svg);
        LT.plot.draw(svg, [{ name: property, points }], { time: true, yLabel: property });
        parts.push(figure);
      }
      parts.push(rows.length ? table : message("No writes recorded."));
      series.replaceChildren(...parts);
    } catch (e) {
      series.replaceChildren(message("Could not read the values: " + errorMessage(e), true));
    }
  }

  async function main() {
    let td;
    try {
      td = await request("GET", LT.prefix + "/" + encodeURIComponent(thing) + "/");
    } catch (e) {
      return;
    }
    const actions = Object.keys(td.actions || {});
    filters.elements.action.replaceChildren(h("option", { value: "" }, "any action"), ...actions.map((a) => h("option", { value: a }, a)));
    filters.addEventListener("submit", (e) => {
      e.preventDefault();
      listInvocations();
    });
    const properties = Object.keys(td.properties || {});
    const picker = document.getElementById("history-property");
    picker.replaceChildren(...properties.map((p) => h("option", { value: p }, p)));
    document.getElementById("history-property-form").addEventListener("submit", (e) => {
      e.preventDefault();
      if (picker.value) showSeries(picker.value);
    });
    if (await listInvocations()) section.hidden = false;
  }

  main();
})();
