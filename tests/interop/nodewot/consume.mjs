// node-wot (pinned in package.json) as a standard WoT consumer of a LabThings server.
//
//   node consume.mjs '<plan as JSON>'
//
// The plan names a Thing Description URL, a property to observe while node-wot writes the
// given values to it, and optionally an event to subscribe to while an action is invoked that
// emits it. node-wot chooses the forms itself from the TD (the first form whose `op` matches
// and whose scheme it speaks), so this checks the TD's form order as much as the streams.
// `observe.expect` (instead of `writes`) waits for that many values pushed without writes.
// Prints {"values": [...], "events": [...]} and exits 0 once everything expected arrived;
// exits 1 with what did arrive after `timeoutMs`.
//
// A secured server: `tdToken` fetches the TD with `Authorization: Bearer` (node-wot's
// requestThingDescription sends no credentials: a TD's credentials are keyed by its `id`, unknown
// before the TD is read), and `credentials` go to `servient.addCredentials`, keyed as given
// (the key `$id` stands for the TD's `id`). `read` lists properties to read instead of observing:
// prints {"read": {...}} or, when node-wot fails, {"error": "..."}, and exits 0. `invoke` lists
// actions (`{action, input}`) to invoke instead: prints {"outputs": [{value} or {error}, ...]}.
// Both packages are CommonJS: import their default export.
import core from "@node-wot/core";
import bindingHttp from "@node-wot/binding-http";

const { Servient } = core;
const { HttpClientFactory } = bindingHttp;

const plan = JSON.parse(process.argv[2]);
const timeoutMs = plan.timeoutMs ?? 8000;
const servient = new Servient();
servient.addClientFactory(new HttpClientFactory(null));
const WoT = await servient.start();

const seen = { values: [], events: [] };
const finish = (code) => {
  console.log(JSON.stringify(seen));
  process.exit(code);
};
setTimeout(() => finish(1), timeoutMs);

let td;
if (plan.tdToken) {
  const response = await fetch(plan.td, { headers: { Authorization: `Bearer ${plan.tdToken}` } });
  if (!response.ok) throw new Error(`GET ${plan.td}: ${response.status}`);
  td = await response.json();
} else {
  td = await WoT.requestThingDescription(plan.td);
}
for (const [key, credential] of Object.entries(plan.credentials ?? {})) {
  servient.addCredentials({ [key === "$id" ? td.id : key]: credential });
}
const thing = await WoT.consume(td);
if (plan.read) {
  const read = {};
  try {
    for (const name of plan.read) {
      read[name] = await (await thing.readProperty(name)).value();
    }
    console.log(JSON.stringify({ id: td.id, read }));
  } catch (error) {
    console.log(JSON.stringify({ id: td.id, error: String(error?.message ?? error) }));
  }
  process.exit(0);
}
if (plan.invoke) {
  // What `invokeAction(...).value()` gives for each, or the error node-wot threw.
  const outputs = [];
  for (const { action, input } of plan.invoke) {
    try {
      outputs.push({ value: await (await thing.invokeAction(action, input)).value() });
    } catch (error) {
      outputs.push({ error: String(error?.message ?? error) });
    }
  }
  console.log(JSON.stringify({ outputs }));
  process.exit(0);
}
// A property that changes by itself (a polled getter) is observed without writes: `expect`
// says how many values to wait for.
const expectedValues = plan.observe.expect ?? plan.observe.writes.length;
const expectedEvents = plan.event ? plan.event.count : 0;
const done = () => seen.values.length >= expectedValues && seen.events.length >= expectedEvents;

await thing.observeProperty(plan.observe.property, async (output) => {
  seen.values.push(await output.value());
  if (done()) finish(0);
});
if (plan.event) {
  await thing.subscribeEvent(plan.event.name, async (output) => {
    seen.events.push(await output.value());
    if (done()) finish(0);
  });
}
// EventSource connects asynchronously after the subscribe promise resolves.
await new Promise((resolve) => setTimeout(resolve, 500));
for (const value of plan.observe.writes) {
  await thing.writeProperty(plan.observe.property, value);
}
if (plan.event) {
  await thing.invokeAction(plan.event.trigger.action, plan.event.trigger.input);
}
