// LabThings web UI: `P/ui/`, every Thing the server serves, from `P/thing_descriptions/`.
"use strict";

(function () {
  const { h } = LT;

  /** The page a TD links as its HTML representation, else ours. */
  function pageOf(name, td) {
    const link = (td.links || []).find((l) => l.rel === "alternate" && l.type === "text/html");
    if (link) return new URL(link.href, td.base || location.href).toString();
    return encodeURIComponent(name);
  }

  function count(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  async function main() {
    document.getElementById("links").replaceChildren(...LT.apiLinks());
    let tds;
    try {
      tds = await LT.request("GET", LT.prefix + "/thing_descriptions/");
    } catch (error) {
      LT.setStatus("Could not load the Things: " + LT.errorMessage(error), true);
      return;
    }
    const names = Object.keys(tds);
    LT.setStatus(names.length ? "" : "This server serves no Things.");
    const list = document.getElementById("things");
    for (const name of names) {
      const td = tds[name];
      const summary = [
        count(Object.keys(td.properties || {}).length, "property", "properties"),
        count(Object.keys(td.actions || {}).length, "action", "actions"),
        count(Object.keys(td.events || {}).length, "event", "events"),
      ].join(" · ");
      const description = LT.prose((td.description || "").split("\n\n")[0]);
      list.append(
        h(
          "li",
          { class: "card", "data-thing": name },
          h("h2", {}, h("a", { href: pageOf(name, td) }, td.title || name)),
          h("p", { class: "meta" }, name),
          description ? h("p", {}, description) : null,
          h("p", { class: "meta" }, summary),
          h("p", {}, h("a", { href: LT.prefix + "/" + encodeURIComponent(name) + "/" }, "Thing Description")),
        ),
      );
    }
  }

  main();
})();
