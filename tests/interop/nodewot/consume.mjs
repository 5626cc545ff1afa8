// node-wot (pinned in package.json) as a standard WoT consumer of a LabThings server.
//
//   node consume.mjs '<plan as JSON>'
//
// The plan names a Thing Description URL, a property to observe while node-wot writes the
// given values to it, and optionally an event to subscribe to while an action is invoked that
// emits it. node-wot chooses the forms itself from the TD (the first form whose `op` matches
// and whose scheme it speaks), so this checks the TD's form order as much as the streams.
// Prints {"values": [...], "events": [...]} and exits 0 once everything expected arrived;
// exits 1 with what did arrive after `timeoutMs`.
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

const td = await WoT.requestThingDescription(plan.td);
const thing = await WoT.consume(td);
const expectedValues = plan.observe.writes.length;
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
