// LabThings web UI: inputs generated from JSON Schema (a TD's DataSchemas). `LT.forms`.
//
// Every control is `{el, focus, get(), set(value), isEmpty(), onCommit(fn)}`: `el` goes into the
// page, `focus` is the element a <label for> names, `get()` returns the value to send (or
// throws with a message), `onCommit` fires when the person has finished entering a value
// (Enter, leaving the field, picking an option).
"use strict";

(function () {
  const { h } = LT;

  /** `X` of `oneOf`/`anyOf: [X, {type: "null"}]` or `type: [t, "null"]`, else null. */
  function nullableInner(schema) {
    const options = schema.oneOf || schema.anyOf;
    if (Array.isArray(options) && options.length === 2) {
      const nulls = options.filter((o) => o && o.type === "null");
      if (nulls.length === 1) {
        const inner = options.find((o) => o !== nulls[0]);
        return { ...inner, title: inner.title || schema.title, description: inner.description || schema.description };
      }
    }
    if (Array.isArray(schema.type) && schema.type.length === 2 && schema.type.includes("null")) {
      return { ...schema, type: schema.type.find((t) => t !== "null") };
    }
    return null;
  }

  /** Whether an action's input takes nothing: absent, `null`, or an object with no properties. */
  function takesNothing(schema) {
    if (!schema) return true;
    if (schema.type === "null") return true;
    const options = schema.oneOf || schema.anyOf;
    if (Array.isArray(options)) return options.every((o) => takesNothing(o) || (o.type === "object" && !Object.keys(o.properties || {}).length));
    return schema.type === "object" && !Object.keys(schema.properties || {}).length && schema.additionalProperties === false;
  }

  /** A short description of the constraints, for the hint under a field. */
  function constraints(schema) {
    const parts = [];
    if (schema.minimum !== undefined) parts.push("≥ " + schema.minimum);
    if (schema.exclusiveMinimum !== undefined) parts.push("> " + schema.exclusiveMinimum);
    if (schema.maximum !== undefined) parts.push("≤ " + schema.maximum);
    if (schema.exclusiveMaximum !== undefined) parts.push("< " + schema.exclusiveMaximum);
    if (schema.multipleOf !== undefined) parts.push("multiple of " + schema.multipleOf);
    if (schema.pattern) parts.push("pattern " + schema.pattern);
    return parts.join(", ");
  }

  /** The type a person reads: `integer`, `number | null`, `array of 3 integer`. */
  function typeName(schema) {
    const inner = nullableInner(schema);
    if (inner) return typeName(inner) + " | null";
    if (schema.enum) return "one of " + schema.enum.map((v) => JSON.stringify(v)).join(", ");
    if (schema.type === "array" && schema.items && schema.items.type) {
      const n = schema.minItems !== undefined && schema.minItems === schema.maxItems ? schema.minItems + " " : "";
      return "array of " + n + schema.items.type;
    }
    return Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type || "any JSON";
  }

  /** "in °C" for a schema with a TD `unit`, else "". */
  function unit(schema) {
    if (!schema || typeof schema.unit !== "string") return "";
    return "in " + (LT.unitSymbol ? LT.unitSymbol(schema.unit) : schema.unit);
  }

  function isScalar(schema) {
    return schema && (schema.enum || ["integer", "number", "string", "boolean"].includes(schema.type));
  }

  /** Fixed-length arrays of scalars (`[x, y, z]`) get one input per item. */
  function tupleItems(schema) {
    if (schema.type !== "array") return null;
    if (Array.isArray(schema.prefixItems) && schema.prefixItems.every(isScalar) && schema.items === false) return schema.prefixItems;
    const n = schema.minItems;
    if (isScalar(schema.items) && n !== undefined && n === schema.maxItems && n > 0 && n <= 8) return Array(n).fill(schema.items);
    return null;
  }

  function listeners() {
    const fns = [];
    return { add: (fn) => fns.push(fn), fire: () => fns.forEach((fn) => fn()) };
  }

  /** A control for `schema`; its focusable element gets `id`, and `label` names it for AT. */
  function control(schema, id, label) {
    schema = schema || {};
    const inner = nullableInner(schema);
    if (inner) return nullable(inner, id, label);
    if (Array.isArray(schema.enum)) return select(schema, id);
    const tuple = tupleItems(schema);
    if (tuple) return tupleControl(tuple, id, label);
    switch (schema.type) {
      case "boolean":
        return checkbox(id);
      case "integer":
      case "number":
        return number(schema, id);
      case "string":
        return text(schema, id);
      default:
        return json(schema, id);
    }
  }

  function input(attrs, toValue, fromValue) {
    const commit = listeners();
    const el = h("input", { ...attrs, class: "control" });
    // `change` fires on Enter and on leaving a field whose text changed.
    el.addEventListener("change", commit.fire);
    return {
      el,
      focus: el,
      get: () => toValue(el),
      set: (value) => fromValue(el, value),
      isEmpty: () => el.value === "",
      onCommit: commit.add,
    };
  }

  function number(schema, id) {
    const integer = schema.type === "integer";
    const step = schema.multipleOf !== undefined ? schema.multipleOf : integer ? 1 : "any";
    const attrs = { id, type: "number", step: String(step), inputmode: integer ? "numeric" : "decimal" };
    const min = schema.minimum !== undefined ? schema.minimum : schema.exclusiveMinimum;
    const max = schema.maximum !== undefined ? schema.maximum : schema.exclusiveMaximum;
    if (min !== undefined) attrs.min = String(min);
    if (max !== undefined) attrs.max = String(max);
    return input(
      attrs,
      (el) => {
        // Out-of-range values are sent all the same: the server's message says what's wrong.
        if (el.value.trim() === "") throw new Error("Enter a number");
        return Number(el.value);
      },
      (el, value) => {
        el.value = value === null || value === undefined ? "" : String(value);
      },
    );
  }

  function text(schema, id) {
    const attrs = { id, type: "text", spellcheck: "false", autocomplete: "off" };
    if (schema.pattern) attrs.pattern = schema.pattern;
    if (schema.minLength !== undefined) attrs.minlength = String(schema.minLength);
    if (schema.maxLength !== undefined) attrs.maxlength = String(schema.maxLength);
    return input(
      attrs,
      (el) => el.value,
      (el, value) => {
        el.value = value === null || value === undefined ? "" : String(value);
      },
    );
  }

  function checkbox(id) {
    const commit = listeners();
    const el = h("input", { id, type: "checkbox", onchange: commit.fire });
    return {
      el,
      focus: el,
      get: () => el.checked,
      set: (value) => {
        el.checked = !!value;
      },
      isEmpty: () => false,
      onCommit: commit.add,
    };
  }

  function select(schema, id) {
    const commit = listeners();
    const el = h(
      "select",
      { id, class: "control", onchange: commit.fire },
      schema.enum.map((value, i) => h("option", { value: String(i) }, typeof value === "string" ? value : JSON.stringify(value))),
    );
    return {
      el,
      focus: el,
      get: () => schema.enum[el.selectedIndex],
      set: (value) => {
        const i = schema.enum.findIndex((v) => JSON.stringify(v) === JSON.stringify(value));
        if (i >= 0) el.selectedIndex = i;
      },
      isEmpty: () => false,
      onCommit: commit.add,
    };
  }

  function tupleControl(items, id, label) {
    const commit = listeners();
    const parts = items.map((item, i) => {
      const part = control(item, i === 0 ? id : id + "-" + i, label);
      part.focus.setAttribute("aria-label", (label || "item") + " [" + i + "]");
      part.onCommit(commit.fire);
      return part;
    });
    return {
      el: h("div", { class: "tuple control" }, parts.map((p) => p.el)),
      focus: parts[0].focus,
      get: () => parts.map((p) => p.get()),
      set: (value) => {
        if (Array.isArray(value)) parts.forEach((p, i) => p.set(value[i]));
      },
      isEmpty: () => parts.every((p) => p.isEmpty()),
      onCommit: commit.add,
    };
  }

  function nullable(inner, id, label) {
    const commit = listeners();
    const value = control(inner, id, label);
    const none = h("input", { type: "checkbox", id: id + "-null" });
    const sync = () => {
      value.el.classList.toggle("disabled", none.checked);
      for (const el of value.el.querySelectorAll ? [value.el, ...value.el.querySelectorAll("input,select,textarea")] : [value.el]) {
        if (el.matches("input,select,textarea")) el.disabled = none.checked;
      }
    };
    none.addEventListener("change", () => {
      sync();
      commit.fire();
    });
    value.onCommit(commit.fire);
    return {
      el: h("div", { class: "nullable control" }, value.el, h("label", { for: id + "-null" }, none, " null")),
      focus: value.focus,
      get: () => (none.checked ? null : value.get()),
      set: (v) => {
        none.checked = v === null;
        if (v !== null && v !== undefined) value.set(v);
        sync();
      },
      isEmpty: () => !none.checked && value.isEmpty(),
      onCommit: commit.add,
    };
  }

  function json(schema, id) {
    const el = h("textarea", { id, class: "control mono", spellcheck: "false", rows: 3 });
    return {
      el,
      focus: el,
      get: () => JSON.parse(el.value),
      set: (value) => {
        el.value = value === undefined ? "" : JSON.stringify(value, null, 2);
      },
      isEmpty: () => el.value.trim() === "",
      // A JSON document is never "finished" on Enter: only its button sends it.
      onCommit: () => {},
    };
  }

  /**
   * The fields of an action's input (an object schema): `{el, get()}`, `get()` returning the
   * object to send, leaving out optional fields left empty.
   */
  function objectForm(schema, idPrefix) {
    if (takesNothing(schema)) return { el: null, get: () => ({}), first: null };
    const properties = schema.properties;
    if (schema.type !== "object" || !properties) {
      const whole = control(schema, idPrefix + "-input", "input");
      return {
        el: h("div", { class: "field" }, h("label", { for: whole.focus.id }, "Input (JSON)"), whole.el),
        get: whole.get,
        first: whole.focus,
      };
    }
    const required = new Set(schema.required || []);
    const fields = Object.entries(properties).map(([key, property]) => {
      const id = idPrefix + "-" + key;
      const title = property.title || key;
      const field = control(property, id, title);
      if (property.default !== undefined) field.set(property.default);
      const hint = [typeName(property), constraints(property), property.description].filter(Boolean).join(" · ");
      return {
        key,
        field,
        el: h(
          "div",
          { class: "field" },
          h("label", { for: id }, title, property.unit ? " (" + unit(property).slice(3) + ")" : "", required.has(key) ? " *" : ""),
          field.el,
          hint ? h("span", { class: "meta" }, hint) : null,
        ),
      };
    });
    return {
      el: h("div", { class: "fields" }, fields.map((f) => f.el)),
      first: fields.length ? fields[0].field.focus : null,
      get() {
        const value = {};
        for (const { key, field } of fields) {
          if (!required.has(key) && field.isEmpty()) continue;
          try {
            value[key] = field.get();
          } catch (error) {
            throw new Error(key + ": " + error.message);
          }
        }
        return value;
      },
    };
  }

  LT.forms = { control, objectForm, typeName, unit, constraints, nullableInner, takesNothing };
})();
