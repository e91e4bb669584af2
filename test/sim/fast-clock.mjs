// Preloaded into the action's process (`node --import`) when a test runs it on the simulator's
// virtual clock: `Date` reads the virtual time and timers wait virtual milliseconds, so a three-hour
// upgrade, one-hour sessions and five-minute OIDC tokens take seconds of real time, and the action,
// the AWS SDK (credential expiry, signing dates) and the simulator agree on what time it is.
// Test harness only: the action's code has no notion of it.
const speed = Number(process.env.SIM_CLOCK_SPEED);
const realStart = Number(process.env.SIM_CLOCK_REAL_START);
const virtualStart = Number(process.env.SIM_CLOCK_VIRTUAL_START);

if (speed > 0 && Number.isFinite(realStart) && Number.isFinite(virtualStart)) {
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  const virtualNow = () => Math.floor(virtualStart + (realNow() - realStart) * speed);
  class VirtualDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(virtualNow());
      else super(...args);
    }
    static now() {
      return virtualNow();
    }
  }
  globalThis.Date = VirtualDate;
  const scale = (ms) => Math.max(0, Number(ms) || 0) / speed;
  const { setTimeout: realSetTimeout, setInterval: realSetInterval } = globalThis;
  globalThis.setTimeout = (fn, ms, ...args) => realSetTimeout(fn, scale(ms), ...args);
  globalThis.setInterval = (fn, ms, ...args) => realSetInterval(fn, scale(ms), ...args);
}
