// node-wot's MQTT binding (@node-wot/binding-mqtt + @node-wot/core 0.8.16, pinned in
// package.json) driving a LabThings server through its broker alone.
//
//   node consume.mjs '<plan as JSON>'
//
// The plan holds two TDs (`counter`, `stage`) already stripped to their MQTT forms, so node-wot
// can use nothing else, and optional `credentials` ({username, password}) filed under each TD's
// id. In order: read `count` (the retained value: node-wot subscribes and takes the first
// message), observe it while writing `writes` to it and invoking `increment`, then subscribe
// to the stage's `arrived` event while invoking `move_relative` with `displacement`.
// Prints {"read", "values", "events"} and exits 0 once everything expected arrived; exits 1
// with what did arrive after `timeoutMs`.
// Both packages are CommonJS: import their default export.
import core from "@node-wot/core";
import bindingMqtt from "@node-wot/binding-mqtt";

const { Servient } = core;
const { MqttClientFactory } = bindingMqtt;

const plan = JSON.parse(process.argv[2]);
const timeoutMs = plan.timeoutMs ?? 10000;
const servient = new Servient();
servient.addClientFactory(new MqttClientFactory());
const WoT = await servient.start();

const seen = { read: null, values: [], events: [] };
const finish = (code) => {
  console.log(JSON.stringify(seen));
  process.exit(code);
};
setTimeout(() => finish(1), timeoutMs);

for (const td of [plan.counter, plan.stage]) {
  if (plan.credentials) servient.addCredentials({ [td.id]: plan.credentials });
}
// node-wot 0.8.16 bug: for a form with its own `security` (our MQTT forms name `mqtt_basic`,
// leaving the HTTP forms the Thing's), ConsumedThing hands the client `retrieveCredentials(id)`,
// the whole list filed under the id, where MqttClient.setSecurity reads `.username` off one
// credential; with Thing-level security it uses `getCredentials(id)`, the first. Give both
// paths the first.
servient.retrieveCredentials = (id) => servient.getCredentials(id);
const counter = await WoT.consume(plan.counter);
const stage = await WoT.consume(plan.stage);

seen.read = await (await counter.readProperty("count")).value();

// The observation first sees the retained value, then each write and the increment.
const last = plan.writes[plan.writes.length - 1] + 1;
const expected = () => seen.values.includes(last) && seen.events.length >= 1;
await counter.observeProperty("count", async (output) => {
  seen.values.push(await output.value());
  if (expected()) finish(0);
});
await stage.subscribeEvent("arrived", async (output) => {
  seen.events.push(await output.value());
  if (expected()) finish(0);
});
for (const value of plan.writes) {
  await counter.writeProperty("count", value);
}
await counter.invokeAction("increment");
await stage.invokeAction("move_relative", { displacement: plan.displacement });
