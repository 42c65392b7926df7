// The compatibility flow with npm's ari-client (run by tests/support/compat.py with node).
const ari = require("ari-client");

const plain = (value) =>
  value === undefined || value === null
    ? null
    : JSON.parse(JSON.stringify(value, (key, v) => (key.startsWith("_") || typeof v === "function" ? undefined : v)));

async function main() {
  const { ARI_URL, ARI_USER, ARI_PASSWORD, ARI_APP } = process.env;
  const client = await ari.connect(ARI_URL, ARI_USER, ARI_PASSWORD);
  const events = [];
  const waiting = [];
  let wake = null;
  const next = (type) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type}`)), 60000);
      const check = () => {
        const found = waiting.findIndex((e) => e.type === type);
        if (found >= 0) {
          clearTimeout(timer);
          resolve(waiting.splice(found, 1)[0]);
        } else wake = check;
      };
      check();
    });
  for (const type of process.argv[2].split(",")) {
    client.on(type, (event) => {
      events.push(plain(event));
      waiting.push(event);
      if (wake) wake();
    });
  }
  await client.start(ARI_APP);
  console.log("ready");
  const steps = {};
  const start = await next("StasisStart");
  const channel = client.Channel(start.channel.id);
  steps.answer = plain(await channel.answer());
  const playback = client.Playback();
  steps.play = plain(await channel.play({ media: "sound:beep" }, playback));
  await next("PlaybackFinished");
  const bridge = await client.bridges.create({ type: "mixing" });
  steps.create_bridge = plain(bridge);
  steps.add_channel = plain(await bridge.addChannel({ channel: channel.id }));
  steps.list_bridges = plain(await client.bridges.list());
  await channel.setChannelVar({ variable: "COMPAT", value: "42" });
  steps.get_var = plain(await channel.getChannelVar({ variable: "COMPAT" }));
  steps.get_channel = plain(await client.channels.get({ channelId: channel.id }));
  steps.hangup = plain(await channel.hangup());
  await new Promise((r) => setTimeout(r, 1000));
  steps.destroy_bridge = plain(await bridge.destroy());
  await new Promise((r) => setTimeout(r, 1000));
  console.log(JSON.stringify({ steps, events }));
  client.stop();
  process.exit(0);
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
